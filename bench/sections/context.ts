// What every bench section shares: the scratch folder, the service's base environment, the sizes of the run.
export interface BenchContext {
  /** Scratch folder of this run (data, uploads, logs). */
  work: string
  token: string
  /** Development-mode environment of the service (PORT, folders and URLs are added per section). */
  devEnv: Record<string, string>
  rounds: number
  /** Seconds of each autocannon run. */
  seconds: number
  /** Uploads per development-upload run. */
  uploadCount: number
  /** Completions timed in the completion + webhook section. */
  completionCount: number
  /** BENCH_PROFILE=1: the service runs with --cpu-prof (profiles in {work}/profiles, kept). */
  profile: boolean
  progress: (line: string) => void
}
