// Entry point of the workflow bundle: every workflow type the worker serves.
export { agentWorkflow } from './agent.ts';
