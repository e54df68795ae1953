/** The parts of ml-xgboost 1.1.2 (no types of its own) that bench/gbt/xgboost.ts uses. */
declare module 'ml-xgboost' {
  export interface XGBoostOptions {
    readonly booster?: string;
    readonly objective?: string;
    readonly max_depth?: number;
    readonly eta?: number;
    readonly min_child_weight?: number;
    readonly subsample?: number;
    readonly colsample_bytree?: number;
    readonly lambda?: number;
    readonly silent?: number;
    readonly iterations?: number;
  }
  export interface XGBoost {
    train(trainingSet: number[][], trainingValues: number[]): void;
    predict(toPredict: number[][]): number[];
    toJSON(): { name: string; model: number[]; options: Record<string, unknown> };
    free(): void;
  }
  export type XGBoostConstructor = new (options: XGBoostOptions) => XGBoost;
  const ready: Promise<XGBoostConstructor>;
  export = ready;
}
