// Entry point of the workflow bundle: every workflow type the worker serves.
export { agentWorkflow } from './agent.ts';
export {
  canaryWorkflow,
  disableWorkflow,
  fallbackWorkflow,
  retrainWorkflow,
  rollbackWorkflow,
  shadowWorkflow,
  verifyWorkflow,
} from './remedies.ts';
export { webhookRemedyWorkflow } from './webhook-remedy.ts';
