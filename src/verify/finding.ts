/** One thing verify found wrong: what (a path, a product) and the problem, in words. */
export interface Finding {
  what: string;
  problem: string;
}
