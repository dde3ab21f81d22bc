// The options every long campaign runner takes (scripts/properties.mjs, scripts/fuzz.mjs):
//   --runs N  --batch B  --seed S (else FC_SEED, else the clock)  and any other --name value.
// A bad number exits with code 2 and the runner's usage line.

/** Parse process.argv for a campaign: { runs, batch, seed0, opt(name, default) }. */
export function campaignArgs({ runs: defRuns, batch: defBatch, usage }) {
  const args = process.argv.slice(2);
  const opt = (name, def) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : def;
  };
  const runs = Number(opt('runs', defRuns));
  const batch = Math.min(runs, Number(opt('batch', defBatch)));
  const seed0 = Number(opt('seed', process.env.FC_SEED ?? Date.now() % 2 ** 31));
  if (![runs, batch, seed0].every(Number.isSafeInteger) || runs < 1 || batch < 1) {
    console.error(`usage: ${usage}`);
    process.exit(2);
  }
  return { runs, batch, seed0, opt };
}
