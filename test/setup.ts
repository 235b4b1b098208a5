// The API's and activities' own logs at errors only, so test output shows what matters (Temporal's are
// kept down by test/helpers/temporal-runtime.ts, loaded only by the tests that run Temporal).
process.env.LOG_LEVEL ??= 'error';
