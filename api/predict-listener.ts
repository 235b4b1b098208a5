// The gateway's fast path: the HTTP server's request listener answers POST /v1/models/:model/predict
// itself and hands every other request to the Express app. Express's routing, body-parser and res.json
// cost more per request than everything the product adds to a prediction's commit (bench/gateway.ts
// measures both against a bare Node server); this path does the same steps as the app's middleware and
// route — admission (api/auth.ts), the JSON body and its NUL check (api/input.ts), the predict function
// (api/routes/gateway.ts), the error handler (api/errors.ts) and the request metrics (api/metrics.ts) —
// by calling them, without the machinery around them.
//
// It takes only what it reads exactly as Express would: a plain path (no query string, no escape in the
// model's name), a JSON content type without a charset other than UTF-8, no content encoding, and a
// declared length within the body limit. Anything else goes to the app, which serves it with the same
// functions. A body that does not parse here at once (not an object, malformed, a byte-order mark) is read
// by the app's own parser, so its refusal is worded as the app's.
import type { IncomingHttpHeaders, IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import express, { type Express, type Request, type Response } from 'express';
import type { Admission, Caller } from './auth.ts';
import { errorHandler, HttpError } from './errors.ts';
import { BODY_LIMIT_BYTES, jsonBody, refuseNul } from './input.ts';
import type { ApiMetrics } from './metrics.ts';
import type { Predict } from './routes/gateway.ts';

/** The route's pattern as Express matches it: any case, an optional trailing slash. */
const PREDICT_PATH = /^\/v1\/models\/([^/?%]+)\/predict\/?$/i;
const PREDICT_ROUTE = '/v1/models/:model/predict';
const JSON_TYPES = new Set(['application/json', 'application/json; charset=utf-8']);
const OPEN_BRACE = 0x7b;

export interface PredictParts {
  admit: Admission;
  predict: Predict;
  metrics: ApiMetrics;
}

/** The model's name when the fast path takes the request (it has no escape to decode), else null. */
export function fastPredictModel(req: IncomingMessage): string | null {
  if (req.method !== 'POST') return null;
  const match = PREDICT_PATH.exec(req.url ?? '');
  if (!match) return null;
  const { headers } = req;
  if (headers['content-encoding'] !== undefined) return null;
  if (!JSON_TYPES.has(headers['content-type']?.toLowerCase() ?? '')) return null;
  const length = Number(headers['content-length']);
  return length <= BODY_LIMIT_BYTES ? match[1]! : null;
}

/** The body; a request the client gave up on is refused as body-parser refuses it. */
function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    req.on('error', () => reject(new HttpError(400, 'malformed_body', 'request aborted')));
  });
}

/** Express's own reading of the client's address (`trust proxy`), for a request it has not dressed. */
const expressIp = Object.getOwnPropertyDescriptor(express.request, 'ip')?.get as (this: unknown) => string;

/** Node's request as admission reads it (api/auth.ts), with Express's reading of the address. */
class NodeCaller implements Caller {
  readonly method = 'POST';
  constructor(
    readonly app: Express,
    readonly path: string,
    readonly socket: Socket,
    readonly headers: IncomingHttpHeaders,
  ) {}

  get(name: string): string | undefined {
    const value = this.headers[name.toLowerCase()];
    return Array.isArray(value) ? value.join(', ') : value;
  }

  get ip(): string {
    return expressIp.call(this);
  }
}

export function predictListener(app: Express, { admit, predict, metrics }: PredictParts): RequestListener {
  const [parseJson, checkNul] = jsonBody() as [
    (req: unknown, res: unknown, next: (error?: unknown) => void) => void,
    (req: unknown, res: unknown, next: (error?: unknown) => void) => void,
  ];

  /** The app's own parser and NUL check on a body already read: its result, or its refusal thrown. */
  const parsedByTheApp = (req: IncomingMessage, res: ServerResponse, raw: Buffer) =>
    new Promise<unknown>((resolve, reject) => {
      const replay = Object.assign(Readable.from([raw], { objectMode: false }), {
        headers: req.headers,
        body: undefined as unknown,
      });
      parseJson(replay, res, (error) => {
        if (error) return reject(error);
        checkNul(replay, res, (nul) => (nul ? reject(nul) : resolve(replay.body)));
      });
    });

  /**
   * A refusal, answered by the app's error handler on the request and response dressed as Express dresses
   * them (its request and response methods), which only refusals pay for: a dressed object slows every
   * later use of it in Node's own HTTP code.
   */
  function refuse(error: unknown, request: IncomingMessage, response: ServerResponse, body: unknown) {
    Object.setPrototypeOf(request, app.request);
    Object.setPrototypeOf(response, app.response);
    const req = request as Request;
    const res = response as Response;
    req.res = res;
    res.req = req;
    res.locals = Object.create(null);
    req.body = body;
    errorHandler(error, req, res, () => {});
  }

  async function serve(req: IncomingMessage, res: ServerResponse, path: string, model: string) {
    const started = process.hrtime.bigint();
    let body: unknown;
    try {
      await admit(new NodeCaller(app, path, req.socket, req.headers));
      const raw = await readBody(req);
      if (raw[0] === OPEN_BRACE) {
        try {
          body = JSON.parse(raw.toString('utf8'));
        } catch {
          body = await parsedByTheApp(req, res, raw);
        }
        refuseNul(raw, body);
      } else {
        body = await parsedByTheApp(req, res, raw);
      }
      const answer = JSON.stringify(await predict(model, body));
      res.writeHead(200, {
        'Content-Type': 'application/json; charset=utf-8',
        'Content-Length': Buffer.byteLength(answer),
      });
      res.end(answer);
    } catch (error) {
      refuse(error, req, res, body);
    }
    metrics.record('POST', PREDICT_ROUTE, res.statusCode, model, started);
  }

  return (req, res) => {
    const model = fastPredictModel(req);
    if (model === null) app(req, res);
    else void serve(req, res, req.url!, model);
  };
}
