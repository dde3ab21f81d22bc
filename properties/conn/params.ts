/** Seeds and budgets: FC_SEED / FC_RUNS (and FC_PATH to replay one counterexample) when set; a fixed CI budget otherwise. */
import type fc from 'fast-check';

export const CI_SEED = 20260531;
export const CI_RUNS = 1000;

export function fcParams(defaultRuns = CI_RUNS): fc.Parameters<unknown> {
  const seed = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : CI_SEED;
  const numRuns = process.env.FC_RUNS !== undefined ? Number(process.env.FC_RUNS) : defaultRuns;
  const p: fc.Parameters<unknown> = { seed, numRuns, endOnFailure: false, verbose: 1 };
  if (process.env.FC_PATH) p.path = process.env.FC_PATH;
  return p;
}

export function seedTitle(): string {
  const p = fcParams();
  return `seed=${p.seed} runs=${p.numRuns}${p.path ? ` path=${p.path}` : ''}`;
}
