/**
 * The input key under which the SDK sends the seed of the stable auto-name ("<stack>-<resource name>").
 * Its `__` prefix makes the CLI leave it out of every diff it prints, as it does `__provider`: it is
 * bookkeeping, not something the user set. 0.1.0 sent it as `autoNameSeed`, still accepted.
 */
export const AUTO_NAME_SEED = "__autoNameSeed";
