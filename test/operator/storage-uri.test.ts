// The one storage-URI parser every controller uses (operator/controllers/common/storage.ts), so
// that training Jobs, validation Jobs and serving pods agree on where files are.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  isPvc,
  joinUri,
  parseStorageUri,
  StorageUriError,
  type StorageLocation,
} from '../../operator/controllers/common/storage.js';

test('storage URIs: pvc, file, s3 and https locations', () => {
  const table: [string, StorageLocation][] = [
    ['pvc://models/face-attributes/run-1', { scheme: 'pvc', claim: 'models', path: 'face-attributes/run-1' }],
    ['pvc://models', { scheme: 'pvc', claim: 'models', path: '' }],
    ['pvc://models//a//b/', { scheme: 'pvc', claim: 'models', path: 'a/b' }],
    ['file:///var/data/faces', { scheme: 'file', uri: 'file:///var/data/faces' }],
    ['s3://bucket/faces', { scheme: 's3', bucket: 'bucket', prefix: 'faces', uri: 's3://bucket/faces' }],
    [
      's3://models.example/a//b/',
      { scheme: 's3', bucket: 'models.example', prefix: 'a/b', uri: 's3://models.example/a//b/' },
    ],
    ['s3://bucket', { scheme: 's3', bucket: 'bucket', prefix: '', uri: 's3://bucket' }],
    ['https://models.example.com/faces/v1/', { scheme: 'https', uri: 'https://models.example.com/faces/v1/' }],
  ];
  for (const [uri, location] of table) {
    assert.equal(parseStorageUri(uri), location, uri);
    assert.is(isPvc(parseStorageUri(uri)), location.scheme === 'pvc', uri);
  }
  const bad: [string, RegExp][] = [
    ['/data/faces', /is not a URI with a scheme/],
    ['pvc://Models/x', /not a PersistentVolumeClaim name/],
    ['pvc:///x', /not a PersistentVolumeClaim name/],
    ['pvc://models/../secrets', /"\.\." is not allowed/],
    ['s3://Bucket_1/x', /not an S3 bucket name/],
    ['s3://b/x', /not an S3 bucket name/],
    ['s3://bucket/a/../b', /"\.\." is not allowed in an s3:\/\/ key/],
    ['gs://bucket/x', /unsupported scheme gs:\/\/ \(use pvc:\/\/, file:\/\/, s3:\/\/ or https:\/\/\)/],
  ];
  for (const [uri, message] of bad) {
    assert.throws(
      () => parseStorageUri(uri),
      (e: unknown) => e instanceof StorageUriError && message.test(String(e)),
      uri,
    );
  }
  // file:// is passed on as written: whether a pod can mount it is up to that pod's builder.
  assert.equal(parseStorageUri('file://relative/path'), { scheme: 'file', uri: 'file://relative/path' });
});

test('the per-run output directory is <output.uri>/<run name>', () => {
  assert.is(joinUri('pvc://models/face-attributes', 'run-1'), 'pvc://models/face-attributes/run-1');
  assert.is(joinUri(joinUri('pvc://models', 'a/b'), 'c'), 'pvc://models/a/b/c');
  assert.is(joinUri('file:///data/', 'run-1'), 'file:///data/run-1');
  assert.is(joinUri('s3://bucket/models/', 'run-1'), 's3://bucket/models/run-1');
  // A joined path that leaves its claim is refused where it is parsed to be mounted.
  assert.throws(
    () => parseStorageUri(joinUri('pvc://models', '..')),
    (e: unknown) => e instanceof StorageUriError,
  );
});

test.run();
