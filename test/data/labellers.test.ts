import assert from 'node:assert/strict';
import { basename } from 'node:path';
import { describe, it } from 'node:test';
import { DataError, ValueError } from '../../src/core/errors.js';
import { getImageFiles } from '../../src/data/getters.js';
import {
  ColReader,
  parentLabel,
  pathAttr,
  RegexLabeller,
  usingAttr,
} from '../../src/data/labellers.js';
import { SHARED_DIR, skipUnlessShared } from '../support/shared.js';

const PETS = `${SHARED_DIR}/data/pets/images`;

describe('labellers', () => {
  it('RegexLabeller gives the breed of every pet file', {
    skip: skipUnlessShared('data', 'pets', 'images'),
  }, async () => {
    const files = await getImageFiles(PETS);
    const getY = usingAttr(RegexLabeller(/(.+)_\d+.jpg$/), 'name');
    const labels = files.map((f) => getY(f));
    // Reference computed another way: the name without its last "_<n>.jpg" part.
    const expected = files.map((f) => basename(f).split('_').slice(0, -1).join('_'));
    assert.deepEqual(labels, expected);
    assert.equal(new Set(labels).size, 37);
    assert.ok(labels.includes('great_pyrenees') && labels.includes('Abyssinian'));
  });

  it('RegexLabeller names the item and pattern when nothing matches', () => {
    const getY = RegexLabeller(/(.+)_\d+.jpg$/);
    assert.throws(
      () => getY('/x/IMG 01.png'),
      (e: unknown) =>
        e instanceof DataError &&
        e.message.includes('"/x/IMG 01.png"') &&
        e.message.includes('/(.+)_\\d+.jpg$/'),
    );
    assert.throws(() => RegexLabeller(/abc/), ValueError);
  });

  it("RegexLabeller's match option anchors at the start, as fastai's re.match", () => {
    // fastai: RegexLabeller(r'/(\d)/') finds '3' in '/a/3/b.png' (re.search); with
    // match=True the same pattern fails there and a pattern from the start succeeds.
    assert.equal(RegexLabeller(/\/(\d)\//)('/a/3/b.png'), '3');
    assert.throws(
      () => RegexLabeller(/\/(\d)\//, { match: true })('/a/3/b.png'),
      (e: unknown) => e instanceof DataError && /matched nothing at the start of/.test(e.message),
    );
    const anchored = RegexLabeller('.*?/(\\d)/', { match: true });
    assert.equal(anchored('/a/3/b.png'), '3');
    assert.equal(anchored('/a/7/b.png'), '7', 'the sticky pattern is reset between items');
    assert.equal(RegexLabeller(/(\d+)/g, { match: true })('42_cat'), '42');
    assert.throws(() => RegexLabeller(/(\d+)/g, { match: true })('cat_42'), DataError);
    assert.throws(() => RegexLabeller(/(a)/, { matches: true } as never), ValueError);
  });

  it('usingAttr reads name, stem, suffix and parent like fastai Path', () => {
    const f = '/data/pets/images/Bengal_12.jpg';
    assert.equal(usingAttr((s) => s, 'name')(f), 'Bengal_12.jpg');
    assert.equal(usingAttr((s) => s, 'stem')(f), 'Bengal_12');
    assert.equal(pathAttr(f, 'suffix'), '.jpg');
    assert.equal(usingAttr((s) => s, 'parent')(f), '/data/pets/images');
    assert.equal(usingAttr((s) => String(s).toUpperCase(), 'label')({ label: 'cat' }), 'CAT');
    assert.equal(parentLabel('/h/train/ants/1.jpg'), 'ants');
  });

  it('ColReader reads columns with prefix, suffix and delimiters', () => {
    const row = { fname: '001', labels: 'cat dog', n: 3 };
    assert.equal(ColReader('fname', { pref: 'img/', suff: '.jpg' })(row), 'img/001.jpg');
    assert.deepEqual(ColReader('labels', { labelDelim: ' ' })(row), ['cat', 'dog']);
    assert.deepEqual(ColReader(['fname', 'n'])(row), ['001', 3]);
    assert.throws(() => ColReader('missing')(row), /no column "missing"/);
  });
});
