/**
 * How long things take in the simulated fleet, in virtual seconds. AWS publishes no fixed figures for these;
 * the values are typical of a small Linux instance, and short enough that a rehearsal stays readable.
 */
export const SIMULATION_TIMING = {
  /** An instance goes from Pending (EC2 `pending`) to InService (`running`). */
  instanceLaunchSeconds: 30,
  /** A terminating instance goes from Terminating (`shutting-down`) to Terminated (`terminated`). */
  instanceTerminateSeconds: 30,
  /** A new instance refresh stays Pending this long before it turns InProgress. */
  refreshStartSeconds: 10,
  /** A cancelled instance refresh stays Cancelling this long before it is Cancelled. */
  refreshCancelSeconds: 15,
} as const;
