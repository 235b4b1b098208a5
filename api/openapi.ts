// The OpenAPI 3.0 document, served at GET /openapi.json. Its paths are read from the routes actually
// mounted on the app, its request schemas are generated from the same zod validators the routes parse
// with, and each operation's role comes from the access rules (api/auth.ts): nothing is written twice.
// OPERATIONS adds what code cannot say (a summary); a test fails when a mounted route has no entry here
// or an entry has no route.
import fs from 'node:fs';
import path from 'node:path';
import type { Express } from 'express';
import { z } from 'zod';
import { SESSION_COOKIE } from '../lib/auth/sessions.ts';
import { REPO_ROOT } from '../lib/db/config.ts';
import { registerVersionSchema } from '../lib/registry/versions.ts';
import { MAX_SEGMENTS, segmentsBody } from '../lib/segments/definition.ts';

const PACKAGE_VERSION: string = JSON.parse(
  fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8'),
).version;

import { ACCESS_RULES, isPublicRoute } from './auth.ts';
import { PATH_PARAMS, type PathParamName } from './params.ts';
import {
  acknowledgeBody,
  approvalBody,
  CONTROL_CHECK_MS,
  CONTROL_DEADLINE_MS,
  documentedPolicyBody,
  operatorBody,
  revertBody,
} from './routes/agents.ts';
import { auditVerifyQuery } from './routes/audit.ts';
import { predictBatchSchema, predictRowSchema } from './routes/gateway.ts';
import {
  actionsQuery,
  decisionsQuery,
  driftQuery,
  fleetQuery,
  incidentsQuery,
  windowsQuery,
} from './routes/history.ts';
import { labelsBody, predictionsBody } from './routes/ingest.ts';
import { createKeyBody, keysQuery } from './routes/keys.ts';
import {
  AGENT_START_DEADLINE_MS,
  modelSettingsBody,
  modelsQuery,
  policyQuery,
  registerModelBody,
} from './routes/models.ts';
import {
  deploymentChangeBody,
  restoreRevisionBody,
  revisionsQuery,
  statusBody,
  versionsQuery,
} from './routes/registry.ts';
import { webhookResultBody } from './routes/remedies.ts';
import { signInBody } from './routes/sessions.ts';

interface OperationDoc {
  summary: string;
  /** Longer semantics, when the summary cannot say them. */
  description?: string;
  body?: z.ZodType;
  query?: z.ZodType;
  /** What particular statuses mean for this operation (the generic 2XX/4XX/5XX entries stay). */
  responses?: Record<string, string>;
}

/** An operator control: a workflow update with a deadline, sent only to an agent that answers. */
function control(summary: string, body: z.ZodType, responses: Record<string, string> = {}): OperationDoc {
  return {
    summary,
    body,
    description:
      `The API answers within ${CONTROL_DEADLINE_MS / 1000} s. It sends the control only to an agent ` +
      `that answers a status query within ${CONTROL_CHECK_MS / 1000} s, because Temporal keeps a pending ` +
      'control and applies it whenever a worker comes back: a 503 agent_unresponsive or ' +
      'temporal_unavailable means nothing was sent and nothing changes, now or later; send it again ' +
      'after Retry-After. Only if the agent stops answering after the control was sent is the answer 503 ' +
      "control_pending: it may still be applied when a worker runs; read the agent's state first.",
    responses: {
      '200': "Applied: the agent's new state",
      '202':
        'Accepted by the agent but not finished by the deadline (its worker stopped mid-change, or the ' +
        'change is slow): it completes when the worker runs; do not send it again',
      '409': 'The agent refused it (it does not apply now); nothing changed',
      '503':
        'Temporal or the agent did not answer in time (code agent_unresponsive, temporal_unavailable: ' +
        'nothing changed; control_pending: sent, may still be applied); Retry-After says when to retry',
      ...responses,
    },
  };
}

/** Rows are the model's own: what a static document cannot say about traffic of every model at once. */
const FEATURES_OF_THE_MODEL =
  "Each row's features are checked against the model's feature schema (GET /v1/models/{model}): with " +
  'onInvalid "reject" a violation answers 400 invalid_features and stores nothing; with "flag" (the ' +
  'default) the row is stored with its violations.';

/**
 * What any /v1 operation may answer besides its own statuses: from the authentication and rate-limit
 * middleware (api/auth.ts, api/rate-limit.ts) and from an unavailable database or a full write queue.
 */
const COMMON_RESPONSES: Record<string, string> = {
  '401':
    'No API key or session, or an unknown or revoked key, or an ended session (WWW-Authenticate: Bearer)',
  '403':
    "The key's or person's role or model scope does not allow this operation; with a session, also a host " +
    'not in HOMEOSTAT_DASHBOARD_HOSTS (host_not_allowed) or a missing or wrong X-CSRF-Token (csrf_token_mismatch)',
  '429':
    'Rate limited (code rate_limited): the key is over HOMEOSTAT_RATE_LIMIT, or this address sent too ' +
    'many refused requests; Retry-After says when to retry',
  '503':
    'Unavailable: database_unavailable (the database did not answer in HOMEOSTAT_DB_TIMEOUT_MS), ' +
    'overloaded (the write queue is full), or a Temporal code for agent routes; Retry-After says when to retry',
};

/**
 * Operations whose answer names something a path takes (a created model, the first of a list), and where:
 * every operation whose path parameters one supplies gets an OpenAPI link from that answer, so that a
 * client (and the fuzzer's stateful phase) can follow a model to its versions, deployment, agent and
 * history. (Not GET /v1/keys: its first key is the oldest, whose revocation would lock the caller out.)
 */
const LINK_SOURCES: Record<
  string,
  { status: '200' | '201'; supplies: Partial<Record<PathParamName, string>> }
> = {
  'POST /v1/models': { status: '201', supplies: { model: '$response.body#/model/name' } },
  'GET /v1/models': { status: '200', supplies: { model: '$response.body#/models/0/name' } },
  'POST /v1/models/{model}/versions': {
    status: '201',
    supplies: { model: '$request.path.model', version: '$response.body#/version/version' },
  },
  'GET /v1/models/{model}/versions': {
    status: '200',
    supplies: { model: '$request.path.model', version: '$response.body#/versions/0/version' },
  },
  'POST /v1/models/{model}/deployment': {
    status: '201',
    supplies: { model: '$request.path.model', revision: '$response.body#/deployment/revision' },
  },
  'GET /v1/models/{model}/revisions': {
    status: '200',
    supplies: { model: '$request.path.model', revision: '$response.body#/revisions/0/revision' },
  },
  'GET /v1/models/{model}/incidents': { status: '200', supplies: { id: '$response.body#/incidents/0/id' } },
  'POST /v1/keys': { status: '201', supplies: { name: '$response.body#/name' } },
};

const pathParamsOf = (route: string) => [...route.matchAll(/\{(\w+)\}/g)].map((m) => m[1] as PathParamName);

/** The links of a source's answer: to every other operation whose path parameters it supplies. */
function linksFrom(
  key: string,
  routes: string[],
): { status: string; links: Record<string, object> } | undefined {
  const source = LINK_SOURCES[key];
  if (!source) return undefined;
  const supplied = source.supplies;
  const created = Object.entries(supplied)
    .filter(([, expression]) => expression.startsWith('$response'))
    .map(([name]) => name);
  const links: Record<string, object> = {};
  for (const target of routes) {
    const [method, route] = target.split(' ') as [string, string];
    const params = pathParamsOf(route);
    if (target === key || !params.some((name) => created.includes(name))) continue;
    if (!params.every((name) => supplied[name])) continue;
    const pointer = route.replaceAll('~', '~0').replaceAll('/', '~1');
    links[target.replace(/[^A-Za-z0-9]+/g, '_').replace(/^_|_$/g, '')] = {
      operationRef: `#/paths/${pointer}/${method.toLowerCase()}`,
      parameters: Object.fromEntries(params.map((name) => [name, supplied[name]])),
    };
  }
  return { status: source.status, links };
}

export const OPERATIONS: Record<string, OperationDoc> = {
  'GET /healthz': {
    summary: 'Liveness: the process answers HTTP (checks nothing else, answers at once)',
  },
  'GET /readyz': {
    summary: 'Readiness: the database and Temporal answer (each within 2 s; result kept 1 s)',
    responses: { '200': 'Ready', '503': 'The database or Temporal is unavailable (the body says which)' },
  },
  'GET /metrics': { summary: 'Prometheus metrics' },
  'GET /openapi.json': { summary: 'This document' },
  'GET /v1/models': {
    summary: 'List registered models, by name (paged: limit, cursor → nextCursor)',
    query: modelsQuery,
  },
  'POST /v1/models': {
    summary: 'Register a model and start its agent',
    description:
      "Feature names are unique within featureSchema, and a numeric feature's min is not above its max " +
      '(400 otherwise).',
    body: registerModelBody,
    responses: {
      '201':
        'Registered (the store is the source of truth). `agent.started` says whether its agent runs; when ' +
        `Temporal did not start it within ${AGENT_START_DEADLINE_MS / 1000} s it is false, \`agent.reason\` ` +
        "says why, and the worker's periodic reconcile starts the agent once Temporal is reachable",
      '409': 'A model of that name is registered (code model_exists); nothing changed',
    },
  },
  'GET /v1/models/{model}': { summary: 'One model' },
  'PATCH /v1/models/{model}': {
    summary: 'Change serving settings (onInvalid, disabledResponse)',
    body: modelSettingsBody,
  },
  'GET /v1/models/{model}/segments': {
    summary: "The model's segment definitions and the segments they resolve to",
  },
  'PUT /v1/models/{model}/segments': {
    summary: "Replace the model's segment definitions",
    description:
      'A definition is `{ by }` (one segment per value of a categorical or boolean feature, named ' +
      '`feature=value`) or `{ name, feature, op, value }` (the rows one comparison picks: eq and ne for ' +
      `any feature, lt, le, gt and ge for numeric ones). At most ${MAX_SEGMENTS} segments in all. The agent ` +
      'measures, judges and can protect each segment on its own (docs/agent-logic.md, "Segments").',
    body: segmentsBody,
    responses: {
      '400': 'invalid_request: the body is malformed; nothing changed',
      '422':
        'invalid_segments: well-formed definitions that do not fit the model (a feature the schema lacks, a ' +
        'comparison or value its type does not allow, a name used twice, too many segments), each issue ' +
        'with its path; nothing changed',
      '409':
        'segment_routed: the current deployment serves a segment the new definitions drop from its fallback; nothing changed',
    },
  },
  'POST /v1/models/{model}/predict': {
    summary: 'Serve predictions through the gateway (one row, or { rows } for a batch)',
    description: FEATURES_OF_THE_MODEL,
    body: z.union([predictRowSchema, predictBatchSchema]),
    responses: {
      '409':
        'not_deployed (the model has no deployment yet) or prediction_exists (an id already used); ' +
        'nothing was stored',
      '503':
        'model_disabled: the model is disabled and its disabledResponse is "unavailable"; or, as for ' +
        'every operation, database_unavailable or overloaded. Retry-After says when to retry',
    },
  },
  'POST /v1/models/{model}/predictions': {
    summary: 'Log predictions made by your own serving stack',
    description: `${FEATURES_OF_THE_MODEL} A prediction's value must be one of a classifier's labels (a number for regression: 400 invalid_prediction); a version the model does not have answers 422.`,
    body: predictionsBody,
    responses: {
      '409': 'A prediction id was already ingested (code prediction_exists); nothing was stored',
      '422':
        'A prediction names a version the model does not have (code unknown_version); nothing was stored',
    },
  },
  'POST /v1/models/{model}/labels': {
    summary: 'Ground truth by prediction id, whenever it arrives',
    description:
      "A label must be one of a classifier's labels, a number for regression (400 invalid_label); a " +
      'prediction id this model never received answers 422 unknown_prediction. Nothing is stored then.',
    body: labelsBody,
    responses: {
      '409': 'A prediction already has a label (code label_exists); nothing was stored',
      '422':
        'A label refers to a prediction this model never received (code unknown_prediction); nothing was stored',
    },
  },
  'GET /v1/models/{model}/policy': {
    summary: 'The current policy (defaults filled in) and its version history, newest first (paged)',
    query: policyQuery,
  },
  'GET /v1/models/{model}/agent': { summary: "The agent's live state (a workflow query)" },
  'POST /v1/models/{model}/agent/pause': control('Pause the agent (audited workflow update)', operatorBody),
  'POST /v1/models/{model}/agent/approve': control(
    'Approve the remedy waiting for a human (audited workflow update)',
    approvalBody,
  ),
  'POST /v1/models/{model}/agent/reject': control(
    'Reject the remedy waiting for a human; the agent takes the next rung (audited)',
    approvalBody,
  ),
  'POST /v1/models/{model}/agent/acknowledge': control(
    'Acknowledge an escalated incident: a human has taken it over (audited)',
    acknowledgeBody,
  ),
  'POST /v1/models/{model}/agent/revert': control(
    'Undo an audited action: restore the deployment from before it (audited)',
    revertBody,
  ),
  'PUT /v1/models/{model}/agent/policy': control(
    "Replace the model's policy: validated (422 with every issue), versioned, audited",
    documentedPolicyBody,
    { '422': 'The policy is invalid (code invalid_policy; issues lists every problem); nothing changed' },
  ),
  'POST /v1/models/{model}/agent/resume': control('Resume the agent (audited workflow update)', operatorBody),
  'POST /v1/models/{model}/remedies/{delivery}/result': {
    summary: "Report the result of a webhook remedy (the user's rollout system answers the agent)",
    description:
      'The delivery id is the `delivery` field of the signed request the remedy webhook received. The ' +
      'result goes to the remedy waiting for it (a workflow update); succeeded goes on to verification, ' +
      'failed climbs the ladder. Reporting the same outcome again (a retry) is answered as the first time, ' +
      'also after the remedy went on.',
    body: webhookResultBody,
    responses: {
      '200': 'Taken: the result the remedy goes on with',
      '404': 'No webhook remedy of this model has that delivery id (code remedy_not_found)',
      '409':
        'The remedy is no longer waiting (another result was taken, or none in time: remedy_not_waiting), or a different ' +
        'outcome was reported before (remedy_rejected); nothing changed',
      '503': 'Temporal did not answer in time (code temporal_unavailable); send it again after Retry-After',
    },
  },
  'POST /v1/models/{model}/versions': {
    summary: 'Register (or train) a model version',
    description:
      'Besides the schema: data and validation carry as many labels as rows; trainingWindow.from is not ' +
      "after .to; rows fit the model's feature schema (400 invalid_data); the artifact is one of the kinds " +
      "with the model's task and labels (400 invalid_artifact); parentVersion and incidentId exist (422).",
    body: registerVersionSchema,
    responses: {
      '422': 'parentVersion or incidentId names nothing of this model (unknown_version, unknown_incident)',
    },
  },
  'GET /v1/models/{model}/versions': { summary: 'List versions, newest first (paged)', query: versionsQuery },
  'GET /v1/models/{model}/versions/{version}': {
    summary: 'One version with its artifact and reference profile',
  },
  'PATCH /v1/models/{model}/versions/{version}': {
    summary: 'Set a version candidate, retired or rejected',
    body: statusBody,
    responses: {
      '409':
        'The version has a role in the current deployment (code version_deployed): change the deployment first',
    },
  },
  'GET /v1/models/{model}/deployment': { summary: 'The current deployment revision' },
  'POST /v1/models/{model}/deployment': {
    summary: 'Change the deployment: a new revision',
    description:
      'The deployment it leads to must be able to serve (400 invalid_deployment: the serving mode needs a ' +
      'production version, the fallback mode a fallback, a version holds one role); versions it names must ' +
      'exist (422 unknown_version). `fallbackSegments` names segments of the model (GET ' +
      '/v1/models/{model}/segments) whose rows the fallback version answers while production answers the ' +
      'rest; it needs a fallback version, and [] lifts every segment route.',
    body: deploymentChangeBody,
    responses: {
      '200': 'Nothing changed: the deployment already is what was asked (no new revision)',
      '201': 'A new revision',
      '422':
        'A version it names does not exist (code unknown_version), or a segment the model does not define ' +
        '(code unknown_segment); nothing changed',
    },
  },
  'GET /v1/models/{model}/revisions': {
    summary: 'Deployment revisions, newest first (paged)',
    query: revisionsQuery,
  },
  'POST /v1/models/{model}/revisions/{revision}/restore': {
    summary: 'Restore an earlier revision (itself a new revision)',
    body: restoreRevisionBody,
  },
  'GET /v1/keys': { summary: 'List API keys, oldest first (never their secrets; paged)', query: keysQuery },
  'POST /v1/keys': {
    summary: 'Create an API key; the secret is in this answer only',
    body: createKeyBody,
    responses: { '409': 'An active key of that name exists (code key_exists); nothing changed' },
  },
  'DELETE /v1/keys/{name}': { summary: 'Revoke an API key' },
  'GET /v1/audit/verify': {
    summary: 'Verify the tamper-evident audit chain: audit rows or entries changed, inserted or deleted',
    query: auditVerifyQuery,
  },
  'POST /v1/sessions': {
    summary: "Sign a person in: sets the session cookie and answers the session's CSRF token",
    description:
      'For the dashboard. The cookie (homeostat_session) is httpOnly and SameSite=Strict; a request made ' +
      'with it must come through a host of HOMEOSTAT_DASHBOARD_HOSTS, and a state-changing one must send ' +
      'the CSRF token in X-CSRF-Token. Failed sign-ins are limited per name (HOMEOSTAT_SIGNIN_LIMIT).',
    body: signInBody,
    responses: {
      '401': 'The name or the password is wrong (code sign_in_failed)',
      '403': 'The host is not one of HOMEOSTAT_DASHBOARD_HOSTS (code host_not_allowed)',
      '429': 'Too many failed sign-ins for the name or from this address; Retry-After says when to retry',
      '503': COMMON_RESPONSES['503']!,
    },
  },
  'GET /v1/sessions/current': {
    summary: 'Who is calling: the person signed in (with the CSRF token) or the API key',
  },
  'DELETE /v1/sessions/current': {
    summary: "Sign out: ends the caller's session and clears its cookie",
    responses: { '400': 'The request carries an API key, not a session (code not_a_session)' },
  },
  'GET /v1/fleet': {
    summary:
      'Every model with its health, open incident and last decision, by name (paged both ways, filterable)',
    description:
      'health, incidentKind and search (a case-insensitive part of the name) select the models, in code-point ' +
      'order of their names. Pages are keyset: nextCursor ("after.<model>") and prevCursor ("before.<model>") ' +
      'name the model a page starts after or ends before, so a page stays put when models are added or removed ' +
      'elsewhere; null when no page lies on that side. matching says how many models match over every page, ' +
      'offset how many of them come before this page, total how many the caller may see. counts (models by ' +
      'health) follow search and incidentKind, incidentCounts (models by open-incident kind) follow search ' +
      'and health: what each choice of the other filter would match.',
    query: fleetQuery,
  },
  'GET /v1/fleet/{model}': { summary: "One model's fleet entry" },
  'GET /v1/models/{model}/windows': { summary: 'Monitoring windows, oldest first', query: windowsQuery },
  'GET /v1/models/{model}/drift': {
    summary: 'Per-feature drift of recent windows: a features × windows matrix',
    query: driftQuery,
  },
  'GET /v1/models/{model}/decisions': { summary: 'Decisions, newest first', query: decisionsQuery },
  'GET /v1/models/{model}/incidents': { summary: 'Incidents, newest first', query: incidentsQuery },
  'GET /v1/incidents/{id}': { summary: 'An incident with its timeline' },
  'GET /v1/actions': {
    summary: 'The audit trail, filterable; JSON or CSV',
    description: 'from is not after to (400 otherwise).',
    query: actionsQuery,
  },
};

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
  handle: { stack?: Layer[] };
  rawPath?: string;
}

/** Every mounted route as "METHOD /path/{param}", read from Express's router. */
export function mountedRoutes(app: Express): string[] {
  const found: string[] = [];
  const walk = (stack: Layer[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) {
        const path = `${prefix}${layer.route.path === '/' ? '' : layer.route.path}` || '/';
        for (const method of Object.keys(layer.route.methods)) {
          if (method !== '_all') found.push(`${method.toUpperCase()} ${path.replace(/:(\w+)/g, '{$1}')}`);
        }
      } else if (layer.handle.stack) {
        walk(layer.handle.stack, `${prefix}${typeof layer.rawPath === 'string' ? layer.rawPath : ''}`);
      }
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack, '');
  return [...new Set(found)].sort();
}

const ERROR = {
  description: 'Error',
  content: {
    'application/json': {
      schema: {
        type: 'object',
        properties: {
          error: {
            type: 'object',
            required: ['status', 'code', 'message'],
            properties: {
              status: { type: 'integer' },
              code: { type: 'string' },
              message: { type: 'string' },
              issues: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: { path: { type: 'string' }, message: { type: 'string' } },
                },
              },
            },
          },
        },
      },
    },
  },
};

/** What the validators of an operation answer: from its body, query and path parameters. */
function validationResponses(doc: OperationDoc | undefined, params: PathParamName[]): Record<string, string> {
  const validated = [doc?.body && 'body', doc?.query && 'query', params.length > 0 && 'path'].filter(Boolean);
  return {
    ...(validated.length > 0
      ? {
          '400':
            `Invalid request: the ${validated.join(', ')} breaks this document's schema (code invalid_request; ` +
            'issues names each problem by path); nothing changed',
        }
      : {}),
    ...(params.length > 0 ? { '404': `No such ${params.join(' / ')}` } : {}),
    ...(doc?.body
      ? {
          '413': 'The body is over HOMEOSTAT_BODY_LIMIT (default 2 MB; code payload_too_large): split it',
        }
      : {}),
  };
}

const jsonSchema = (schema: z.ZodType, { text = false } = {}) =>
  z.toJSONSchema(schema, {
    target: 'openapi-3.0',
    io: 'input',
    unrepresentable: 'any',
    override: ({ zodSchema, jsonSchema }) => {
      statePropertyNames(zodSchema, jsonSchema);
      if (text) forbidNul(jsonSchema);
    },
  });

/**
 * The text of a body or a query may not hold U+0000 (api/input.ts refuses it: PostgreSQL cannot store
 * it). A string with a format, a fixed set of values or a pattern of its own excludes it already (every
 * pattern the validators use does; lib/domain.ts trimmedText says why its own does).
 */
function forbidNul(json: Record<string, unknown>): void {
  if (json.type !== 'string' || 'pattern' in json || 'format' in json || 'enum' in json || 'const' in json)
    return;
  json.pattern = NO_NUL_PATTERN;
}
const NO_NUL_PATTERN = '^[^\\u0000]*$';

/**
 * OpenAPI 3.0 has no propertyNames, so a record keyed by an enumeration (z.record(enum) needs every key,
 * z.partialRecord any of them) would lose its keys: spell them out as properties instead.
 */
function statePropertyNames(schema: z.core.$ZodType, json: Record<string, unknown>): void {
  const def = schema._zod.def;
  if (def.type !== 'record') return;
  const { keyType, partial } = def as z.core.$ZodRecordDef & { partial?: boolean };
  const keyDef = keyType._zod.def;
  if (keyDef.type !== 'enum') return;
  const keys = Object.values((keyDef as z.core.$ZodEnumDef).entries).map(String);
  json.properties = Object.fromEntries(keys.map((key) => [key, json.additionalProperties]));
  json.additionalProperties = false;
  delete json.propertyNames;
  if (!partial) json.required = keys;
}

export function buildOpenApi(app: Express): object {
  const paths: Record<string, Record<string, object>> = {};
  const routes = mountedRoutes(app);
  for (const key of routes) {
    const [method, route] = key.split(' ') as [string, string];
    const doc = OPERATIONS[key];
    const params = pathParamsOf(route).map((name) => ({
      name,
      in: 'path',
      required: true,
      schema: jsonSchema(PATH_PARAMS[name]),
    }));
    const links = linksFrom(key, routes);
    const query = doc?.query ? jsonSchema(doc.query, { text: true }) : null;
    const queryParams = Object.entries((query?.properties ?? {}) as Record<string, object>).map(
      ([name, schema]) => ({
        name,
        in: 'query',
        required: false,
        schema,
      }),
    );
    const open = !route.startsWith('/v1/') || isPublicRoute(method, route);
    paths[route] ??= {};
    paths[route][method.toLowerCase()] = {
      summary: doc?.summary ?? key,
      ...(doc?.description ? { description: doc.description } : {}),
      ...(open ? { security: [] } : { 'x-required-role': ACCESS_RULES[key]?.role ?? 'admin' }),
      parameters: [...params, ...queryParams],
      ...(doc?.body
        ? {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: jsonSchema(doc.body, { text: true }) } },
            },
          }
        : {}),
      responses: {
        ...Object.fromEntries(
          Object.entries({
            ...(open ? {} : COMMON_RESPONSES),
            ...validationResponses(doc, pathParamsOf(route)),
            ...(links ? { [links.status]: links.status === '201' ? 'Created' : 'Success' } : {}),
            ...doc?.responses,
          }).map(([status, description]) => [
            status,
            status < '400'
              ? { description, ...(status === links?.status ? { links: links.links } : {}) }
              : { ...ERROR, description },
          ]),
        ),
        '2XX': { description: 'Success' },
        '4XX': ERROR,
        '5XX': ERROR,
      },
    };
  }
  return {
    openapi: '3.0.3',
    info: {
      title: 'Homeostat API',
      version: PACKAGE_VERSION,
      description:
        'Monitoring and auto-recovery agent for production ML models. Lists are paged: ?limit= and ' +
        '?cursor= (the nextCursor of the page before; null on the last page). Every /v1 route needs ' +
        '"Authorization: Bearer <API key>", or a person\'s session cookie (the dashboard; POST /v1/sessions); ' +
        'x-required-role names the least role an operation needs ' +
        '(admin ⊃ operator ⊃ viewer; ingest only sends traffic).',
    },
    components: {
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer' },
        session: { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE },
      },
    },
    security: [{ apiKey: [] }, { session: [] }],
    paths,
  };
}
