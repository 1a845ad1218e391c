/**
 * What the price catalog does not say about a GPU and right-sizing needs: its memory and its compute.
 * Keyed by the catalog's GPU names (an accelerator entry's `accelerator`, an instance entry's
 * `gpu_model`); `dcgm` recognises the model name dcgm-exporter reports ("NVIDIA A100-SXM4-40GB").
 * Compute is dense FP16 Tensor Core TFLOPS from the vendor's datasheet: coarse, but the same
 * measure for every GPU, which is all a "does the work fit on the smaller one" check needs.
 */
export interface GpuSpec {
  name: string;
  memoryMiB: number;
  fp16Tflops: number;
  dcgm: RegExp;
  source: string;
}

const GIB = 1024;

/** First match wins for DCGM names: the 80 GB A100 before the 40 GB one. */
export const GPU_SPECS: readonly GpuSpec[] = [
  {
    name: "nvidia-h100-80gb",
    memoryMiB: 80 * GIB,
    fp16Tflops: 989,
    dcgm: /H100/i,
    source: "NVIDIA H100 datasheet (SXM, dense FP16 Tensor)",
  },
  {
    name: "nvidia-a100-80gb",
    memoryMiB: 80 * GIB,
    fp16Tflops: 312,
    dcgm: /A100.*80\s*GB/i,
    source: "NVIDIA A100 datasheet (dense FP16 Tensor)",
  },
  {
    name: "nvidia-tesla-a100",
    memoryMiB: 40 * GIB,
    fp16Tflops: 312,
    dcgm: /A100/i,
    source: "NVIDIA A100 datasheet (40 GB, dense FP16 Tensor)",
  },
  {
    name: "nvidia-l4",
    memoryMiB: 24 * GIB,
    fp16Tflops: 121,
    dcgm: /\bL4\b/i,
    source: "NVIDIA L4 datasheet (dense FP16 Tensor)",
  },
  {
    name: "nvidia-a10g",
    memoryMiB: 24 * GIB,
    fp16Tflops: 70,
    dcgm: /A10G/i,
    source: "AWS G5 (A10G): NVIDIA publishes no datasheet; 70 dense FP16 Tensor TFLOPS as commonly cited",
  },
  {
    name: "nvidia-tesla-v100",
    memoryMiB: 16 * GIB,
    fp16Tflops: 125,
    dcgm: /V100/i,
    source: "NVIDIA V100 datasheet (SXM2 16 GB, FP16 Tensor)",
  },
  {
    name: "nvidia-tesla-t4",
    memoryMiB: 16 * GIB,
    fp16Tflops: 65,
    dcgm: /\bT4\b/i,
    source: "NVIDIA T4 datasheet (FP16 Tensor, mixed precision)",
  },
];

const BY_NAME = new Map(GPU_SPECS.map((spec) => [spec.name, spec]));

/** The spec of a catalog GPU name, case-insensitive; undefined for a GPU the table does not know. */
export function gpuSpec(name: string | null | undefined): GpuSpec | undefined {
  return name ? BY_NAME.get(name.toLowerCase()) : undefined;
}

/** The spec of the GPU a DCGM series reports by model name. */
export function gpuSpecOfDcgmModel(modelName: string): GpuSpec | undefined {
  return GPU_SPECS.find((spec) => spec.dcgm.test(modelName));
}
