export type * from './experiment.messages';
export {
  experimentDecider,
  evolveExperiment,
  experimentSnapshot,
  complaintsAboveOthers,
  guardrailBreach,
  initialExperimentState,
  type EvaluateExperiment,
  type ExperimentCommand,
  type ExperimentState,
} from './experiment.decider';
