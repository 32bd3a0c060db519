// Writes docs/events.md from the events catalogue and the log lines. Run: node tools/events-doc.ts
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventsDoc } from '../src/cli/events-doc.ts';

writeFileSync(join(import.meta.dirname, '..', 'docs', 'events.md'), eventsDoc());
