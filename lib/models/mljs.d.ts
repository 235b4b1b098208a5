// ml-logistic-regression and ml-regression ship no type declarations; these cover only what
// lib/models uses. (ml-random-forest and ml-matrix ship their own.)

declare module 'ml-logistic-regression' {
  import type { Matrix } from 'ml-matrix';

  /** One-vs-rest: classifier i scores the probability that a row is NOT class i. */
  interface OneVsRestClassifier {
    testScores(features: Matrix): number[];
  }

  export default class LogisticRegression {
    constructor(options: { numSteps: number; learningRate: number });
    classifiers: OneVsRestClassifier[];
    /** `labels` is a column vector of class indices 0..k-1, each of which must occur. */
    train(features: Matrix, labels: Matrix): void;
    toJSON(): { name: 'LogisticRegression' };
    static load(model: { name: 'LogisticRegression' }): LogisticRegression;
  }
}

declare module 'ml-regression' {
  export class MultivariateLinearRegression {
    constructor(x: number[][], y: number[][], options?: { intercept?: boolean; statistics?: boolean });
    predict(x: number[][]): number[][];
    toJSON(): { name: 'multivariateLinearRegression' };
    static load(model: { name: 'multivariateLinearRegression' }): MultivariateLinearRegression;
  }
}
