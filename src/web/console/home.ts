// The console's home page: the areas the signed-in role sees (nav.ts), a line each.
import type { FastifyInstance } from 'fastify';
import { html } from '../html.ts';
import { sendPage } from '../respond.ts';
import type { ConsoleDeps } from '../types.ts';
import { T } from '../staff/texts.ts';
import { areasFor } from './nav.ts';
import { consolePage } from './shell.ts';

export function homePage(app: FastifyInstance, deps: ConsoleDeps): void {
  app.get('/', async (req, reply) => {
    const p = (await deps.gate.current(req))!;
    return sendPage(reply, consolePage(p, {
      title: T.home.title, path: '/',
      main: html`<p>${T.home.intro}</p>
<ul class="areas">${areasFor(p.role).map((a) => html`<li><a href="${a.href}">${a.label}</a>: ${a.blurb}</li>`)}</ul>`,
    }));
  });
}
