// The Explorer's page: reads the path from the address (#/steps/0/3/1?step=2), asks the server
// for that path in protocol words (/.path/...), and shows it: the steps numbered as in the text
// report, the state after the selected step, the story of a broken property, the sequence
// diagram, and the choices from the selected state. The check behind the page (/.status) gives
// every property its verdict.
'use strict';

const $ = (id) => document.getElementById(id);

/// An element with `text` (never parsed as markup) and `classes`.
function element(tag, text, classes) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = text;
  if (classes) node.className = classes;
  return node;
}

/// An element showing `text` with each `code span` (Markdown backticks) as a <code> element;
/// nothing in `text` is parsed as markup.
function withCode(tag, text, classes) {
  const node = element(tag, null, classes);
  const parts = String(text).split('`');
  // An odd count of backticks leaves the last one unmatched: show it as written.
  const spans = parts.length % 2 === 1 ? parts.length : parts.length - 1;
  parts.forEach((part, index) => {
    if (index >= spans) node.append('`' + part);
    else if (index % 2 === 1) node.append(element('code', part));
    else node.append(part);
  });
  return node;
}

function link(text, href) {
  const anchor = element('a', text);
  anchor.href = href;
  return anchor;
}

/// The path and the selected step the address names; the initial state by default.
function route() {
  const hash = window.location.hash || '';
  const [target, query] = hash.replace(/^#/, '').split('?');
  const path = (target || '').replace(/^\/?steps\/?/, '').replace(/\/+$/, '');
  const step = new URLSearchParams(query || '').get('step');
  return { path: path || '0', step: step === null ? null : Number(step) };
}

function address(path, step) {
  return '#/steps/' + path + (step === null || step === undefined ? '' : '?step=' + step);
}

let view = null;   // the last path the server described
let status = null; // the last status of the check

async function fetchJson(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(await response.text());
  return response.json();
}

async function showRoute() {
  const { path, step } = route();
  const query = step === null ? '' : '?step=' + step;
  try {
    view = await fetchJson('/.path/' + path + query);
    $('error').hidden = true;
  } catch (error) {
    $('error').textContent = 'This path cannot be shown: ' + error.message;
    $('error').hidden = false;
    return;
  }
  renderView();
  renderProperties();
}

function renderView() {
  renderBanner();
  renderPath();
  renderStep();
  renderStory();
  renderChoices();
  $('diagram').innerHTML = view.svg || '';
}

function quoted(name) {
  return '"' + name + '"';
}

function renderBanner() {
  const banner = $('banner');
  banner.replaceChildren();
  banner.className = '';
  if (view.broken.length > 0) {
    view.broken.forEach((found, index) => {
      if (index > 0) banner.append(element('br'));
      const property = propertyNamed(found.property);
      const expectation = property ? property.expectation : 'always';
      banner.append('✘ This path breaks ' + expectation + ' ' + quoted(found.property) + ' at ');
      banner.append(link('step ' + found.step, address(view.path, found.step)));
      if (property && property.expected_here) {
        banner.append(' (expected in this configuration: ' + property.expected_here + ')');
      }
    });
    banner.hidden = false;
  } else if (view.examples.length > 0) {
    banner.className = 'example';
    const names = view.examples.map((found) => quoted(found.property) + ' (step ' + found.step + ')');
    banner.append('✔ This path is an example of ' + names.join(', '));
    banner.hidden = false;
  } else {
    banner.hidden = true;
  }
}

function propertyNamed(name) {
  return status ? status.properties.find((p) => p.name === name) : undefined;
}

function renderPath() {
  const list = $('path');
  list.replaceChildren();
  for (const step of view.steps) {
    const item = element('li');
    item.dataset.step = step.step;
    const classes = [];
    if (step.step === view.selected) classes.push('selected');
    if (step.broken.length > 0) classes.push('broken');
    else if (step.notes.length > 0) classes.push('decisive');
    item.className = classes.join(' ');
    item.append(element('span', String(step.step) + '.', 'number'));
    const body = element('span');
    body.append(element('span', step.action, 'action'));
    const notes = step.notes.map((note) => '★ ' + note)
      .concat(step.broken.map((name) => '✘ ' + name + ' broken'));
    if (notes.length > 0) body.append(element('span', notes.join('; '), 'notes'));
    item.append(body);
    item.addEventListener('click', () => {
      window.location.hash = address(view.path, step.step);
    });
    list.append(item);
  }
  const selected = list.querySelector('li.selected');
  if (selected) selected.scrollIntoView({ block: 'nearest' });
}

function renderStep() {
  const step = view.steps[view.selected];
  $('step-title').textContent = step.step === 0
    ? 'Step 0: the initial state'
    : 'Step ' + step.step + ': ' + step.action;
  const notes = $('step-notes');
  notes.replaceChildren();
  for (const note of step.notes) notes.append(element('li', '★ ' + note));
  for (const name of step.broken) {
    notes.append(element('li', '✘ ' + quoted(name) + ' is broken after this step', 'broken'));
  }
  $('state').textContent = step.state.join('\n');
}

function renderStory() {
  const box = $('story-box');
  const story = view.story;
  if (!story || story.lines.length === 0) {
    box.hidden = true;
    return;
  }
  $('story-title').textContent = 'What happened: how ' + quoted(story.property) + ' broke';
  const list = $('story');
  list.replaceChildren();
  for (const line of story.lines) list.append(withCode('li', line));
  box.hidden = false;
}

function renderChoices() {
  $('choices-from').textContent = String(view.selected);
  const list = $('choices');
  list.replaceChildren();
  if (view.choices.length === 0) {
    list.append(element('li', 'nothing can happen here: the run ends', 'ignored'));
  }
  for (const choice of view.choices) {
    const item = element('li');
    if (choice.ignored) {
      item.append(element('span', choice.action + ' (changes nothing)', 'action ignored'));
    } else {
      const anchor = link(choice.action, address(choice.path));
      anchor.className = 'action';
      item.append(anchor);
      for (const note of choice.notes) item.append(element('span', '★ ' + note, 'decides'));
      for (const name of choice.breaks) item.append(element('span', '✘ breaks ' + name, 'breaks'));
    }
    list.append(item);
  }
}

function verdictWords(property) {
  switch (property.verdict) {
    case 'holds': return ['✔', 'holds'];
    case 'example': return ['✔', 'example found'];
    case 'violated': return property.fails ? ['✘', 'violated'] : ['⚠', 'violated, as expected here'];
    case 'missing': return ['✘', 'no example'];
    case 'checking': return ['…', 'checking'];
    default: return ['?', 'unknown (the check stopped first)'];
  }
}

function renderProperties() {
  if (!status) return;
  const list = $('properties');
  list.replaceChildren();
  const brokenHere = new Map((view ? view.broken : []).map((found) => [found.property, found.step]));
  for (const property of status.properties) {
    const [icon, words] = verdictWords(property);
    const classes = [property.verdict];
    if (property.fails) classes.push('fails');
    else if (property.verdict === 'violated') classes.push('expected');
    if (brokenHere.has(property.name)) classes.push('on-path');
    const item = element('li', null, classes.join(' '));
    item.dataset.property = property.name;
    item.append(icon + ' ' + property.expectation + ' ');
    item.append(element('span', property.name, 'mono'));
    item.append(' — ');
    item.append(element('span', words, 'verdict'));
    if (property.path) {
      item.append(' (');
      item.append(link(property.steps + ' steps', '#/steps/' + property.path));
      item.append(')');
    }
    if (brokenHere.has(property.name)) {
      item.append(element('span', 'broken on this path at step ' + brokenHere.get(property.name), 'here'));
    }
    list.append(item);
  }
}

function renderStatus() {
  $('model').textContent = status.title + ': ' + status.summary;
  $('notation').textContent = status.ballot_notation || '';
  if (view) renderBanner();
  const counts = status.unique_state_count.toLocaleString('en-US') + ' unique states, depth ' +
    status.max_depth;
  if (!status.done) {
    $('progress').textContent = 'Checking every property… ' + counts;
  } else if (status.complete) {
    $('progress').textContent = 'Checked: every reachable state explored (' + counts + ').';
  } else {
    $('progress').textContent = 'Checked ' + counts + '; ' + (status.stopped_by || 'incomplete') + '.';
  }
  renderProperties();
}

async function pollStatus() {
  try {
    status = await fetchJson('/.status');
    renderStatus();
  } catch (error) {
    $('progress').textContent = 'The check behind the page cannot be reached: ' + error.message;
  }
  if (!status || !status.done) setTimeout(pollStatus, 1000);
}

window.addEventListener('hashchange', showRoute);
pollStatus();
showRoute();
