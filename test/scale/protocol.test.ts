// Redis payloads are parsed, not cast: what another process wrote is checked field by field, and a payload with a
// wrong field is refused with an error that names the payload and the field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeFailure, decodeProgress, encodeFailure, encodeProgress, parseAdvert, parsePayload, parseResult, ProtocolError, remoteJobDataSchema, type RemoteJobData, type RemoteResult, type WorkerAdvert } from '../../src/scale/protocol.ts';
import { InvalidRequestError } from '../../src/pipeline/pipeline.ts';

const jobData: RemoteJobData = {
  jobId: 'j1',
  userId: 'u1',
  model: 'tiny-sd15',
  shard: 0,
  params: {
    kind: 'txt2img',
    action: 'imagine',
    prompt: 'a cat',
    negativePrompt: '',
    seed: 1,
    steps: 4,
    guidance: 7.5,
    width: 64,
    height: 64,
    count: 1,
    channel: { ageRestricted: false, uploadLimit: 8 << 20 },
  },
  inputs: {},
  software: 'imagine-bot',
};

const result: RemoteResult = { images: [{ key: 'k1', seed: 1, nsfw: false, width: 64, height: 64 }], worker: 'w1', sampler: 'pndm', model: 'tiny-sd15', stepsRun: 4, promptTruncated: false, elapsedMs: 12 };

const refused = (fn: () => unknown, pattern: RegExp) => assert.throws(fn, (err: unknown) => err instanceof ProtocolError && pattern.test(err.message));

test('job data: a good payload parses unchanged, with unknown (newer) fields kept', () => {
  assert.deepEqual(parsePayload(remoteJobDataSchema, jobData, 'job data'), jobData);
  const newer = { ...jobData, params: { ...jobData.params, model: 'other' } };
  assert.equal((parsePayload(remoteJobDataSchema, newer, 'job data').params as Record<string, unknown>).model, 'other');
});

test('job data with a wrong field is refused, naming the payload and the field', () => {
  refused(() => parsePayload(remoteJobDataSchema, { ...jobData, params: { ...jobData.params, steps: 'ten' } }, 'the data of job j1'), /^the data of job j1 is malformed \(params\.steps: /);
  refused(() => parsePayload(remoteJobDataSchema, { ...jobData, params: { ...jobData.params, guidance: 31 } }, 'job data'), /params\.guidance/);
  refused(() => parsePayload(remoteJobDataSchema, { ...jobData, params: { ...jobData.params, kind: 'video' } }, 'job data'), /params\.kind/);
  refused(() => parsePayload(remoteJobDataSchema, { ...jobData, inputs: undefined }, 'job data'), /inputs/);
  refused(() => parsePayload(remoteJobDataSchema, 'not an object', 'job data'), /\(the payload\)/);
});

test('results: JSON text or objects; a result without images or with a bad sampler is refused', () => {
  assert.deepEqual(parseResult(JSON.stringify(result)), result);
  assert.deepEqual(parseResult(result), result);
  refused(() => parseResult({ ...result, images: undefined }), /the worker's result is malformed \(images: /);
  refused(() => parseResult({ ...result, sampler: 'k_lms' }), /sampler/);
  refused(() => parseResult({ ...result, images: [{ key: 'k1', seed: -1, nsfw: false, width: 64, height: 64 }] }), /images\.0\.seed/);
  refused(() => parseResult('{not json'), /not JSON/);
});

test('adverts: a worker with zero slots or a broken model entry is not a worker', () => {
  const advert: WorkerAdvert = {
    id: 'w1',
    host: 'h',
    pid: 1,
    models: [{ name: 'tiny-sd15', info: { modelName: 'tiny-sd15', modelDir: '/m', family: 'sd', provider: 'cpu', defaultSampler: 'pndm', hasSafetyChecker: false, supportsImg2Img: true, embeddedGuidance: false, attention: 'off' }, defaults: { steps: 4 } }],
    concurrency: 1,
    running: [],
    startedAt: 1,
  };
  assert.deepEqual(parseAdvert(JSON.stringify(advert)), advert);
  refused(() => parseAdvert(JSON.stringify({ ...advert, concurrency: 0 })), /concurrency/);
  refused(() => parseAdvert(JSON.stringify({ ...advert, models: [{ ...advert.models[0], defaults: { steps: 0 } }] })), /models\.0\.defaults\.steps/);
  refused(() => parseAdvert('garbage'), /not JSON/);
});

test('progress is advisory: a bad update is dropped; failures keep their class, plain text is a message', () => {
  const preview = new Uint8Array([1, 2, 3]);
  assert.deepEqual(decodeProgress(encodeProgress({ step: 2, total: 4, elapsedMs: 10.4, preview })), { step: 2, total: 4, elapsedMs: 10, preview });
  assert.equal(decodeProgress({ step: 'two', total: 4 }), undefined);
  assert.equal(decodeProgress(null), undefined);
  assert.ok(decodeFailure(encodeFailure(new InvalidRequestError('width must be a multiple of 8'))) instanceof InvalidRequestError);
  assert.equal(decodeFailure('something broke').message, 'something broke');
  assert.equal(decodeFailure(JSON.stringify({ name: 7 })).message, JSON.stringify({ name: 7 }));
});
