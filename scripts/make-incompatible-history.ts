// Derives test/histories/incompatible-renamed-activity.json from a real agent history by renaming the
// first activity the agent scheduled. Replaying it against the current workflow code must fail with a
// determinism violation: the replay test uses it to prove that the replay check can fail at all.
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../lib/db/config.ts';

const dir = path.join(REPO_ROOT, 'test', 'histories');
const history = JSON.parse(fs.readFileSync(path.join(dir, 'agent-paused-resumed.json'), 'utf8'));
const scheduled = history.events.find(
  (e: { activityTaskScheduledEventAttributes?: unknown }) => e.activityTaskScheduledEventAttributes,
);
if (!scheduled) throw new Error('the source history schedules no activity');
scheduled.activityTaskScheduledEventAttributes.activityType.name = 'scoreWindow';
fs.writeFileSync(path.join(dir, 'incompatible-renamed-activity.json'), JSON.stringify(history));
console.log('wrote test/histories/incompatible-renamed-activity.json');
