import { z } from "zod";

export const windowSchema = z
  .object({ start: z.iso.datetime({ offset: true }), end: z.iso.datetime({ offset: true }) })
  .refine((w) => Date.parse(w.end) > Date.parse(w.start), {
    message: "end must be after start",
    path: ["end"],
  });
