// A programme's exports as downloads, for those who run it: each a CSV file of the period shown, its times in UTC (as
// the API's) and, beside each, on the reader's clock. The participants' file carries their intake answers.
import { download, qs } from '../../api.js';
import { h, act, messageArea, browserPlace } from '../../ui.js';
import { t } from '../../words.js';

export const EXPORTS = [['pairs', t('Pairs')], ['sessions', t('Sessions')], ['surveys', t('Surveys')],
  ['participants', t('Participants')], ['goals', t('Goals')]];

/** The downloads of the programme's exports over `period` ({ from, to }: days; none: the programme's own dates), in
 * the reader's zone (`zone`, else the browser's). */
export function exportDownloads(programmeId, period = null, zone = null) {
  const said = messageArea();
  const timezone = zone || browserPlace().timezone || 'UTC';
  const span = period ? t('{from} to {to}', { from: period.from, to: period.to }) : t('the programme’s dates (the last year of an ongoing one)');
  return h('section', { 'aria-labelledby': 'ex-h' }, h('h2', { id: 'ex-h' }, t('Downloads')),
    h('p', { class: 'hint' }, t('Spreadsheets (CSV) of {span}: each time in UTC and in {zone}.', { span, zone: timezone }), ' ',
      t('The participants’ file holds their intake answers: personal data, keep it safe.')),
    h('div', { class: 'actions' }, EXPORTS.map(([name, label]) => h('button', { type: 'button',
      onclick: (e) => act(e.currentTarget, said, async () => {
        const file = await download(`/programmes/${programmeId}/exports/${name}.csv${qs({ from: period?.from, to: period?.to, timezone })}`);
        said.ok(t('{export}: {file} is downloaded.', { export: label, file }));
      }) }, t('{export} (CSV)', { export: label })))), said.el);
}
