/** APIs the pipeline uses; enabled by the component unless the project manages them elsewhere. */
export const REQUIRED_APIS: readonly string[] = [
  "artifactregistry.googleapis.com",
  "bigquery.googleapis.com",
  // The Storage Write API, which ingest streams raw rows through (warehouse.bigquery.writeApi).
  "bigquerystorage.googleapis.com",
  "billingbudgets.googleapis.com",
  "cloudbuild.googleapis.com",
  "cloudfunctions.googleapis.com",
  "cloudscheduler.googleapis.com",
  "iam.googleapis.com",
  "pubsub.googleapis.com",
  "run.googleapis.com",
  "secretmanager.googleapis.com",
  "storage.googleapis.com",
];
