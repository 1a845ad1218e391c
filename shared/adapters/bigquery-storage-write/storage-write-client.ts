import { managedwriter } from "@google-cloud/bigquery-storage";

export type WriterClient = managedwriter.WriterClient;

export interface StorageWriteClientOptions {
  /** The project the streams' tables are in; from the environment (GOOGLE_CLOUD_PROJECT, ADC) when absent. */
  projectId?: string;
}

/**
 * A Storage Write API client on Google's endpoint with Application Default Credentials. Its own
 * write retries stay off (the default): the writer decides what is sent again.
 */
export function createStorageWriteClient(options: StorageWriteClientOptions = {}): WriterClient {
  return new managedwriter.WriterClient(
    options.projectId === undefined ? {} : { projectId: options.projectId },
  );
}
