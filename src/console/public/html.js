// Preact + htm: components written as tagged templates, no build step (docs/console.md says why).
import htm from './vendor/htm.mjs';
import { Component, h, render } from './vendor/preact.mjs';

export const html = htm.bind(h);
export { Component, render };
