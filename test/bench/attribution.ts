import type { Job, RequestLogEntry } from "../control-plane";

/**
 * Who made each request in the control plane's log. Paths name a project, a preview or a job; jobs
 * name their preview; previews belong to the project the benchmark created them in.
 */
export class Attribution {
  private readonly previewProject = new Map<string, string>();
  private readonly jobs = new Map<string, Job>();

  constructor(jobs: Job[], previews: { id: string; projectId: string }[]) {
    for (const job of jobs) this.jobs.set(job.id, job);
    for (const p of previews) this.previewProject.set(p.id, p.projectId);
  }

  /** The project, preview and job a request is about, as far as its path says. */
  of(entry: RequestLogEntry): { projectId?: string; previewId?: string; job?: Job } {
    const [, v1, kind, id] = entry.path.split("/").map(decodeURIComponent);
    if (v1 !== "v1" || !id) return {};
    if (kind === "projects") return { projectId: id };
    if (kind === "preview-databases") return { previewId: id, projectId: this.previewProject.get(id) };
    if (kind === "jobs") {
      const job = this.jobs.get(id);
      return { job, previewId: job?.previewId, projectId: job ? this.previewProject.get(job.previewId) ?? job.projectId : undefined };
    }
    return {};
  }
}

export const isJobPoll = (entry: RequestLogEntry) => entry.method === "GET" && entry.path.startsWith("/v1/jobs/");
export const isList = (entry: RequestLogEntry) => entry.method === "GET" && /^\/v1\/projects\/[^/]+\/preview-databases$/.test(entry.path);
