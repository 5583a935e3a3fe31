/**
 * fastai's published dataset URLs, and what is known about each archive.
 */

const S3 = 'https://s3.amazonaws.com/fast-ai-';
const SAMPLE = `${S3}sample/`;
const IMAGE = `${S3}imageclas/`;
const IMAGELOC = `${S3}imagelocal/`;
const NLP = `${S3}nlp/`;
const COCO = `${S3}coco/`;

/**
 * The dataset archives fastai publishes (same names as fastai's `URLs`), for
 * {@link untarData}. All are `.tgz` archives holding one top-level folder.
 *
 * @example
 * ```ts no-run (network)
 * const path = await tsf.untarData(tsf.URLs.PETS); // ~/.cache/tsfast/data/oxford-iiit-pet
 * ```
 */
export const URLs = {
  /** Oxford-IIIT Pet: 7,390 photos of 37 cat and dog breeds (`images/<breed>_<n>.jpg`). */
  PETS: `${IMAGE}oxford-iiit-pet.tgz`,
  /** Imagenette: 10 easy ImageNet classes, full size. */
  IMAGENETTE: `${IMAGE}imagenette2.tgz`,
  /** Imagenette resized so the short side is 160 px. */
  IMAGENETTE_160: `${IMAGE}imagenette2-160.tgz`,
  /** Imagenette resized so the short side is 320 px. */
  IMAGENETTE_320: `${IMAGE}imagenette2-320.tgz`,
  /** Imagewoof: 10 dog breeds from ImageNet, full size. */
  IMAGEWOOF: `${IMAGE}imagewoof2.tgz`,
  /** Imagewoof, short side 160 px. */
  IMAGEWOOF_160: `${IMAGE}imagewoof2-160.tgz`,
  /** Imagewoof, short side 320 px. */
  IMAGEWOOF_320: `${IMAGE}imagewoof2-320.tgz`,
  /** MNIST as PNG files in `training/` and `testing/` folders per digit. */
  MNIST: `${IMAGE}mnist_png.tgz`,
  /** A 3s-vs-7s sample of MNIST. */
  MNIST_SAMPLE: `${SAMPLE}mnist_sample.tgz`,
  /** A tiny 3s-vs-7s sample of MNIST (about 1,400 images). */
  MNIST_TINY: `${SAMPLE}mnist_tiny.tgz`,
  /** CIFAR-10 as PNG files. */
  CIFAR: `${SAMPLE}cifar10.tgz`,
  /** CIFAR-100 as PNG files. */
  CIFAR_100: `${IMAGE}cifar100.tgz`,
  /** Caltech 101. */
  CALTECH_101: `${IMAGE}caltech_101.tgz`,
  /** Stanford Cars. */
  CARS: `${IMAGE}stanford-cars.tgz`,
  /** Caltech-UCSD Birds 200-2011. */
  CUB_200_2011: `${IMAGE}CUB_200_2011.tgz`,
  /** Oxford 102 Flowers. */
  FLOWERS: `${IMAGE}oxford-102-flowers.tgz`,
  /** Food-101. */
  FOOD: `${IMAGE}food-101.tgz`,
  /** Dogs vs cats (Kaggle). */
  DOGS: `${SAMPLE}dogscats.tgz`,
  /** Planet (Amazon satellite tiles) sample, multi-label. */
  PLANET_SAMPLE: `${SAMPLE}planet_sample.tgz`,
  /** Planet tiny sample, multi-label. */
  PLANET_TINY: `${SAMPLE}planet_tiny.tgz`,
  /** CamVid segmentation. */
  CAMVID: `${IMAGELOC}camvid.tgz`,
  /** A tiny CamVid sample. */
  CAMVID_TINY: `${SAMPLE}camvid_tiny.tgz`,
  /** BIWI head pose sample (regression). */
  BIWI_SAMPLE: `${SAMPLE}biwi_sample.tgz`,
  /** COCO tiny (object detection). */
  COCO_TINY: `${COCO}coco_tiny.tgz`,
  /** IMDB reviews sample (text). */
  IMDB_SAMPLE: `${SAMPLE}imdb_sample.tgz`,
  /** IMDB reviews (text). */
  IMDB: `${NLP}imdb.tgz`,
  /** Adult census sample (tabular). */
  ADULT_SAMPLE: `${SAMPLE}adult_sample.tgz`,
} as const;

/**
 * Size in bytes and MD5 of the first MiB of each archive, as fastai records them (its
 * `checks.txt`): a cheap check that a cached archive is the published one.
 * @internal
 */
export const KNOWN_ARCHIVES: Readonly<Record<string, { size: number; md5FirstMiB: string }>> = {
  [URLs.PETS]: { size: 811706944, md5FirstMiB: 'e4db5c768afd933bb91f5f594d7417a4' },
  [URLs.IMAGENETTE]: { size: 1557161267, md5FirstMiB: '2c774ecb40005b35d7937d50f5d42336' },
  [URLs.IMAGENETTE_160]: { size: 99003388, md5FirstMiB: 'c475f8f7617a200ba35b9facc48443c3' },
  [URLs.IMAGENETTE_320]: { size: 341663724, md5FirstMiB: '1f1f74f133caff120e575856659b87a2' },
  [URLs.IMAGEWOOF]: { size: 1343715595, md5FirstMiB: '2cc1c1e36e20cb6fd24ffb978edcb487' },
  [URLs.IMAGEWOOF_160]: { size: 92612825, md5FirstMiB: '3559b194123981a540b87132dbda412f' },
  [URLs.IMAGEWOOF_320]: { size: 328387740, md5FirstMiB: '7a1fd92672a559a85de76e4810a20c21' },
  [URLs.MNIST]: { size: 15683414, md5FirstMiB: '03639f83c4e3d19e0a3a53a8a997c487' },
  [URLs.MNIST_SAMPLE]: { size: 3214948, md5FirstMiB: '2dbc7ec6f9259b583af0072c55816a88' },
  [URLs.MNIST_TINY]: { size: 342207, md5FirstMiB: '56143e8f24db90d925d82a5a74141875' },
  [URLs.CIFAR]: { size: 168168549, md5FirstMiB: 'a5f8c31371b63a406b23368042812d3c' },
  [URLs.CIFAR_100]: { size: 169168619, md5FirstMiB: 'e5e65dcb54b9d3913f7b8a9ad6607e62' },
  [URLs.CALTECH_101]: { size: 131740031, md5FirstMiB: 'd673425306e98ee4619fcdeef8a0e876' },
  [URLs.CARS]: { size: 1957803273, md5FirstMiB: '9045d6673c9ced0889f41816f6bf2f9f' },
  [URLs.CUB_200_2011]: { size: 1150585339, md5FirstMiB: 'd2acaa99439dff0483c7bbac1bfe2a92' },
  [URLs.FLOWERS]: { size: 345236087, md5FirstMiB: '5666e01c1311b4c67fcf20d2b3850a88' },
  [URLs.FOOD]: { size: 5686607260, md5FirstMiB: '1a540ebf1fb40b2bf3f2294234ba7907' },
  [URLs.DOGS]: { size: 839285364, md5FirstMiB: '3e483c8d6ef2175e9d395a6027eb92b7' },
  [URLs.PLANET_SAMPLE]: { size: 15523994, md5FirstMiB: '8bfb174b3162f07fbde09b54555bdb00' },
  [URLs.PLANET_TINY]: { size: 997569, md5FirstMiB: '490873c5683454d4b2611fb1f00a68a9' },
  [URLs.CAMVID]: { size: 598913237, md5FirstMiB: '648371e4f3a833682afb39b08a3ce2aa' },
  [URLs.CAMVID_TINY]: { size: 2314212, md5FirstMiB: '2cf6daf91b7a2083ecfa3e9968e9d915' },
  [URLs.BIWI_SAMPLE]: { size: 593774, md5FirstMiB: '9179f4c1435f4b291f0d5b072d60c2c9' },
  [URLs.COCO_TINY]: { size: 801038, md5FirstMiB: '367467451ac4fba79a647753c2c66d3a' },
  [URLs.IMDB_SAMPLE]: { size: 571827, md5FirstMiB: '0842e61a9867caa2e6fbdb14fa703d61' },
  [URLs.IMDB]: { size: 144440600, md5FirstMiB: '90f9b1c4ff43a90d67553c9240dc0249' },
  [URLs.ADULT_SAMPLE]: { size: 968212, md5FirstMiB: '64eb9d7e23732de0b138f7372d15492f' },
};
