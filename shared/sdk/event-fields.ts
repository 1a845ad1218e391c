/** The optional owner and placement fields an SDK event carries, without keys for what is unset. */
export function optionalEventFields(
  owner: { cost_center?: string; environment?: string; namespace?: string; labels?: Record<string, string> },
  placement: { instance_type?: string; accelerator?: string; pricing_model?: "on_demand" | "spot" },
) {
  const fields = {
    cost_center: owner.cost_center,
    environment: owner.environment,
    namespace: owner.namespace,
    labels: owner.labels === undefined ? undefined : { ...owner.labels },
    instance_type: placement.instance_type,
    accelerator: placement.accelerator,
    pricing_model: placement.pricing_model,
  };
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as Partial<
    typeof fields
  >;
}
