import type { PhaseResult } from "./concurrency";
import type { JobOp } from "./job-waits";
import { Figures, max, mean } from "./stats";

/**
 * Turns one run's raw measurements into named figures (the report takes the median of each over the
 * runs). Names: `<scenario>.<strategy or mode>.<kind or phase>[.<length>].<figure>`.
 */

export function lengthFigures(ops: JobOp[], into: Figures, prefix = "len"): void {
  for (const key of new Set(ops.map((o) => `${o.strategy}.${o.kind}`))) {
    const mine = ops.filter((o) => `${o.strategy}.${o.kind}` === key);
    into[`${prefix}.${key}.meanOver`] = mean(mine.map((o) => o.overshootMs));
    into[`${prefix}.${key}.maxOver`] = max(mine.map((o) => o.overshootMs));
    into[`${prefix}.${key}.polls`] = mean(mine.map((o) => o.jobPolls));
    into[`${prefix}.${key}.calls`] = mean(mine.map((o) => o.calls));
  }
}

export function longFigures(ops: JobOp[], into: Figures): void {
  for (const o of ops) {
    const key = `long.${o.strategy}.${o.kind}.${o.jobMs}`;
    into[`${key}.over`] = o.overshootMs;
    into[`${key}.polls`] = o.jobPolls;
    into[`${key}.calls`] = o.calls;
  }
}

export function similarFigures(ops: JobOp[], into: Figures): void {
  for (const key of new Set(ops.map((o) => `${o.strategy}.${o.kind}`))) {
    const mine = ops.filter((o) => `${o.strategy}.${o.kind}` === key);
    const first = mine.filter((o) => o.index === 0);
    const learned = mine.filter((o) => o.index > 0);
    into[`sim.${key}.firstOver`] = mean(first.map((o) => o.overshootMs));
    into[`sim.${key}.firstPolls`] = mean(first.map((o) => o.jobPolls));
    into[`sim.${key}.meanOver`] = mean(learned.map((o) => o.overshootMs));
    into[`sim.${key}.maxOver`] = max(learned.map((o) => o.overshootMs));
    into[`sim.${key}.polls`] = mean(learned.map((o) => o.jobPolls));
    into[`sim.${key}.maxPolls`] = max(learned.map((o) => o.jobPolls));
    into[`sim.${key}.calls`] = mean(learned.map((o) => o.calls));
  }
}

export function concurrencyFigures(strategy: string, mode: "ra" | "none", phases: PhaseResult[], into: Figures): void {
  for (const p of phases) {
    const key = `conc.${strategy}.${mode}.${p.phase}`;
    into[`${key}.operations`] = p.operations;
    into[`${key}.wall`] = p.wallMs;
    into[`${key}.floor`] = p.floorMs;
    into[`${key}.ratio`] = p.wallMs / p.floorMs;
    into[`${key}.calls`] = p.calls;
    into[`${key}.limited`] = p.limited;
    into[`${key}.limitedPct`] = (100 * p.limited) / Math.max(1, p.calls);
    into[`${key}.failures`] = p.failures;
    into[`${key}.limitFailures`] = p.limitFailures;
    into[`${key}.timeouts`] = p.timeouts;
    into[`${key}.tcp`] = p.tcpConnections;
    into[`${key}.lists`] = p.lists;
  }
}
