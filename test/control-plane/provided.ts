import { z } from 'zod';

/** ProvidedControlPlaneSchema is what the integration global setup hands to test workers via `inject`. */
export const ProvidedControlPlaneSchema = z.object({
  kubeconfigPath: z.string(),
  kubectlPath: z.string(),
  stateDir: z.string(),
  server: z.string(),
});
export type ProvidedControlPlane = z.infer<typeof ProvidedControlPlaneSchema>;

declare module 'vitest' {
  export interface ProvidedContext {
    controlPlane: ProvidedControlPlane;
  }
}
