/**
 * Routing rules and PACS settings: which series of a study becomes a case under which rule, the
 * reasons a study is skipped, and configuration mistakes refused with a message naming the setting.
 */
import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPacsConfig } from '../../server/pacs/pacsConfig.ts';
import { DEFAULT_ROUTING, loadRoutingRules, routeStudy, RoutingSchema, type SeriesFacts } from '../../server/pacs/routingRules.ts';
import { studyKeyOf } from '../../server/pacs/studyKey.ts';
import { holocaseErrorOf } from '../holocaseErrorOf.ts';

const series = (over: Partial<SeriesFacts>): SeriesFacts => ({
  studyInstanceUid: '1.2.3',
  seriesInstanceUid: `1.2.3.${Math.random()}`,
  modality: 'CT',
  description: 'Abdomen 1.0 Br40',
  instances: 300,
  localizer: false,
  callingAet: 'CT_ROOM_1',
  ...over,
});

async function rulesFile(content: unknown): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'holocase-rules-'));
  const file = path.join(dir, 'rules.json');
  await writeFile(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

describe('routing', () => {
  it('takes every CT study by default, choosing its largest usable series', () => {
    const thin = series({ instances: 600 });
    const decision = routeStudy({ labels: [], series: [series({ localizer: true, instances: 3 }), series({ instances: 120 }), thin, series({ modality: 'SR', instances: 1 })] }, DEFAULT_ROUTING);
    expect(decision).toMatchObject({ kind: 'case', series: thin, rule: { name: 'every CT study' } });
  });

  it('skips studies that are not CT or have no usable CT series, saying why', () => {
    expect(routeStudy({ labels: [], series: [series({ modality: 'MR' }), series({ modality: 'PR' })] }, DEFAULT_ROUTING)).toEqual({ kind: 'skip', reason: 'not CT (MR, PR)' });
    expect(routeStudy({ labels: [], series: [series({ localizer: true }), series({ instances: 1 })] }, DEFAULT_ROUTING)).toEqual({
      kind: 'skip',
      reason: 'no usable CT series (1 localizer series, 1 series of a single image)',
    });
  });

  it('narrows by calling AE title, label and series description; the first matching rule chooses model and owner', () => {
    const routing = RoutingSchema.parse({
      rules: [
        { name: 'cardiac', callingAet: ['cardio_ct'], seriesDescription: 'cta|angio', model: 'heart-model', owner: 'cardiology' },
        { name: 'trauma', label: ['trauma'], model: 'bones' },
      ],
    });
    const cta = series({ callingAet: 'CARDIO_CT', description: 'Coronary CTA 0.6', instances: 200 });
    const study = { labels: [], series: [series({ callingAet: 'CARDIO_CT', description: 'Calcium score' }), cta] };
    expect(routeStudy(study, routing)).toMatchObject({ kind: 'case', series: cta, rule: { name: 'cardiac', model: 'heart-model', owner: 'cardiology' } });
    expect(routeStudy({ labels: ['trauma'], series: [series({})] }, routing)).toMatchObject({ kind: 'case', rule: { name: 'trauma' } });
    expect(routeStudy({ labels: ['elective'], series: [series({})] }, routing)).toEqual({ kind: 'skip', reason: 'no routing rule matches its 1 CT series' });
  });

  it('refuses a rules file with a mistake, naming the file and the field', async () => {
    const bad = await rulesFile({ rules: [{ name: 'x', seriesDescription: '([' }] });
    expect((await holocaseErrorOf((async () => loadRoutingRules(bad))())).message).toBe(`PACS routing rules ${bad}: rules.0.seriesDescription is not a valid regular expression`);
    const unknown = await rulesFile({ rules: [{ name: 'x', modality: 'MR' }] });
    expect((await holocaseErrorOf((async () => loadRoutingRules(unknown))())).message).toMatch(/rules\.0 .*modality/);
    const broken = await rulesFile('{ rules: ');
    expect((await holocaseErrorOf((async () => loadRoutingRules(broken))())).message).toMatch(/is not valid JSON/);
    expect(loadRoutingRules(await rulesFile({ owner: 'pacs-ct', team: 'radiology' }))).toMatchObject({ owner: 'pacs-ct', team: 'radiology', shareWithTeam: true, rules: [{ name: 'every CT study' }] });
  });
});

describe('PACS settings', () => {
  it('reads the Orthanc URL and credentials from the environment or a file, never from the URL', async () => {
    expect(loadPacsConfig({}).orthanc).toBeUndefined();
    expect(loadPacsConfig({ HOLOCASE_ORTHANC_URL: 'http://orthanc:8042/', HOLOCASE_ORTHANC_USER: 'holocase', HOLOCASE_ORTHANC_PASSWORD: 'pw' }).orthanc).toEqual({
      url: 'http://orthanc:8042',
      username: 'holocase',
      password: 'pw',
      pollSeconds: 2,
      startAt: 'now',
    });
    const file = await rulesFile('svc:p:a:ss\n');
    expect(loadPacsConfig({ HOLOCASE_ORTHANC_URL: 'https://orthanc', HOLOCASE_ORTHANC_CREDENTIALS_FILE: file, HOLOCASE_ORTHANC_USER: 'ignored' }).orthanc).toMatchObject({ username: 'svc', password: 'p:a:ss' });
    const error = await holocaseErrorOf((async () => loadPacsConfig({ HOLOCASE_ORTHANC_URL: 'http://user:secret@orthanc:8042' }))());
    expect(error.message).toMatch(/^configuration: HOLOCASE_ORTHANC_URL is not valid/);
    expect(error.message).not.toContain('secret');
  });

  it('keys a series by a keyed hash of its UIDs, with a secret made once per data folder', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'holocase-key-'));
    const key = studyKeyOf(dataDir);
    const again = studyKeyOf(dataDir);
    expect(key('1.2.3', '1.2.3.4')).toBe(again('1.2.3', '1.2.3.4'));
    expect(key('1.2.3', '1.2.3.4')).not.toBe(key('1.2.3', '1.2.3.5'));
    expect(key('1.2.3', '1.2.3.4')).toMatch(/^[0-9a-f]{64}$/);
    expect(studyKeyOf(await mkdtemp(path.join(os.tmpdir(), 'holocase-key-')))('1.2.3', '1.2.3.4')).not.toBe(key('1.2.3', '1.2.3.4'));
    expect((await stat(path.join(dataDir, 'pacs', 'study-key'))).mode & 0o077).toBe(0);
    expect((await readFile(path.join(dataDir, 'pacs', 'study-key'))).length).toBe(32);
  });
});
