// Statistical bounds the tests of random streams check against: wide enough that a correct generator
// fails by chance about once in 16,000 runs, narrow enough to tell a wrong rate from the right one.

/** Half-width of a ~4-sigma interval for a proportion p estimated from n draws. */
export const binomialBound = (p: number, n: number): number => 4 * Math.sqrt((p * (1 - p)) / n);
