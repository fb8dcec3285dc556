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
  /**
   * EC2 runs an instance's status checks once a minute (EC2 user guide, "Status checks for your instances"): an
   * instance whose image does not boot is found impaired at its first check.
   */
  ec2StatusCheckSeconds: 60,
  /** An instance refresh tries a failed launch again after this long (AWS retries with a backoff it does not publish). */
  launchRetrySeconds: 60,
  /** An instance refresh waiting for Standby or scale-in protected instances looks at them again this often. */
  heldBackPollSeconds: 60,
} as const;
