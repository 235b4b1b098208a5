// The custom search attributes that let an engineer filter agents in the Temporal UI or with
// `temporal workflow list --query` ("every agent in escalation", "every data-quality incident"). Temporal
// refuses a workflow task that upserts an attribute the namespace does not know, so every server the
// agents run on registers these first: the dev servers of the demo and the tests at start
// (`--search-attribute`), a running server through `npm run temporal:search-attributes` (scripts/bootstrap.sh
// --search-attributes does it), a cluster by `temporal operator search-attribute create` (docs/operations.md).
// Plain data plus the SDK's key helper: the workflow bundle may load this module.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

type KeywordKey = ReturnType<typeof defineSearchAttributeKey<typeof SearchAttributeType.KEYWORD>>;

/** What each attribute holds, and its name on the server. All are keywords: exact values to filter on. */
const NAMES = {
  /** The model the agent watches. */
  model: 'HomeostatModel',
  /** healthy, degraded, recovering, escalated, paused, starting (lib/brain/status.ts). */
  health: 'HomeostatHealth',
  /** The open incident's kind (lib/domain.ts FINDING_KINDS), absent when none is open. */
  incidentKind: 'HomeostatIncidentKind',
  /** The open incident's severity (info, warning, critical). */
  severity: 'HomeostatSeverity',
  /** The remedy in flight (rollback, retrain, fallback, disable), absent when none is. */
  remedy: 'HomeostatRemedy',
} as const;

/** Typed keys for `upsertSearchAttributes` in workflow code. */
export const SEARCH_ATTRIBUTES = Object.fromEntries(
  Object.entries(NAMES).map(([role, name]) => [
    role,
    defineSearchAttributeKey(name, SearchAttributeType.KEYWORD),
  ]),
) as Record<keyof typeof NAMES, KeywordKey>;

/** Type names as `temporal server start-dev --search-attribute` and `temporal operator` spell them. */
const CLI_TYPE: Record<SearchAttributeType, string> = {
  [SearchAttributeType.TEXT]: 'Text',
  [SearchAttributeType.KEYWORD]: 'Keyword',
  [SearchAttributeType.INT]: 'Int',
  [SearchAttributeType.DOUBLE]: 'Double',
  [SearchAttributeType.BOOL]: 'Bool',
  [SearchAttributeType.DATETIME]: 'Datetime',
  [SearchAttributeType.KEYWORD_LIST]: 'KeywordList',
};

/** Every attribute: its name, its type, and its type as the CLI spells it. */
export const searchAttributeDefinitions = () =>
  Object.values(SEARCH_ATTRIBUTES).map((key) => ({
    name: key.name,
    type: key.type,
    cliType: CLI_TYPE[key.type],
  }));

/** `temporal server start-dev` arguments that register every attribute at start. */
export function devServerSearchAttributeArgs(): string[] {
  return searchAttributeDefinitions().flatMap(({ name, cliType }) => [
    '--search-attribute',
    `${name}=${cliType}`,
  ]);
}
