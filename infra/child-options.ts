import type * as pulumi from "@pulumi/pulumi";

/** How a component declares its children: under itself, after what they all wait for (the APIs). */
export interface ChildOptions {
  parent: pulumi.Resource;
  dependsOn: readonly pulumi.Resource[];
}

/** The options of one child that also waits for `more`. */
export function after(opts: ChildOptions, ...more: pulumi.Resource[]): pulumi.CustomResourceOptions {
  return { parent: opts.parent, dependsOn: [...opts.dependsOn, ...more] };
}
