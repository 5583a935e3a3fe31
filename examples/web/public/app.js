// Classifies a photo with a model written by tsf.exportForWeb, using only @tensorflow/tfjs
// (wasm backend). inference.json says how tsfast prepared validation images: resize method
// and size, pixel scale and normalisation, the activation the model ends with, the vocab.
/* global tf */

const $ = (id) => document.getElementById(id);

/**
 * The region of a w x h image that tsfast's validation Resize shows (centred), as in
 * src/vision/image/resize.ts: the largest box of the target aspect ratio for 'crop', the
 * smallest box containing the image for 'pad'.
 */
function resizeRegion(w, h, tw, th, method) {
  const useWidth = method === 'crop' ? w / tw < h / th : w / tw > h / th;
  const m = useWidth ? w / tw : h / th;
  const cw = Math.max(1, Math.trunc(m * tw));
  const ch = Math.max(1, Math.trunc(m * th));
  return { left: Math.trunc(0.5 * (w - cw)), top: Math.trunc(0.5 * (h - ch)), cw, ch };
}

/**
 * Draws an image (ImageBitmap or <img>) at the model's input size and returns its RGB pixels
 * (0..255, row-major, [height * width * 3]). The browser's decoder and resampling differ
 * from tsfast's (libjpeg-turbo's scaled decoding, then sharp's linear resize) by 0.5 to 4
 * grey levels on average on the pets photos; emulating the scaled decode and the linear
 * filter here was measured no closer. 'pad' fills with zeros whatever the padMode.
 */
function imageToPixels(image, spec) {
  const { height: th, width: tw } = spec.input;
  const w = image.width;
  const h = image.height;
  const canvas = document.createElement('canvas');
  canvas.width = tw;
  canvas.height = th;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = 'high';
  ctx.fillStyle = 'black';
  ctx.fillRect(0, 0, tw, th);
  const method = spec.resize.method;
  if (method === 'squish') {
    ctx.drawImage(image, 0, 0, w, h, 0, 0, tw, th);
  } else {
    const { left, top, cw, ch } = resizeRegion(w, h, tw, th, method);
    if (method === 'crop') {
      ctx.drawImage(image, left, top, cw, ch, 0, 0, tw, th);
    } else {
      const s = tw / cw;
      const rw = Math.min(tw, Math.max(1, Math.round(w * s)));
      const rh = Math.min(th, Math.max(1, Math.round(h * s)));
      const padLeft = Math.min(tw - rw, Math.round(-left * s));
      const padTop = Math.min(th - rh, Math.round(-top * s));
      ctx.drawImage(image, 0, 0, w, h, padLeft, padTop, rw, rh);
    }
  }
  const rgba = ctx.getImageData(0, 0, tw, th).data;
  const rgb = new Float32Array(tw * th * 3);
  for (let i = 0, j = 0; i < rgba.length; i += 4, j += 3) {
    rgb[j] = rgba[i];
    rgb[j + 1] = rgba[i + 1];
    rgb[j + 2] = rgba[i + 2];
  }
  return rgb;
}

async function start() {
  const spec = await (await fetch('model/inference.json')).json();
  if (spec.format !== 'tsfast-web')
    throw new Error('model/inference.json is not a tsfast web export');
  tf.wasm.setWasmPaths(new URL('vendor/tfjs-backend-wasm/', document.baseURI).href);
  await tf.setBackend('wasm');
  await tf.ready();
  const model = await tf.loadLayersModel('model/model.json');
  const { height, width } = spec.input;

  /** Probabilities for RGB pixels (0..255) already at the input size, as tsfast computes them. */
  async function classifyPixels(pixels) {
    if (pixels.length !== height * width * 3) {
      throw new Error(`expected ${height}x${width}x3 pixels, got ${pixels.length} values`);
    }
    const out = tf.tidy(() => {
      let x = tf.tensor4d(pixels, [1, height, width, 3]).mul(spec.input.scale);
      if (spec.normalize) {
        x = x.sub(tf.tensor1d(spec.normalize.mean)).div(tf.tensor1d(spec.normalize.std));
      }
      return model.predict(x);
    });
    const probs = Array.from(await out.data());
    out.dispose();
    const order = probs.map((p, i) => [p, i]).sort((a, b) => b[0] - a[0]);
    const top5 = order.slice(0, 5).map(([prob, index]) => ({
      index,
      label: spec.vocab ? spec.vocab[index] : String(index),
      prob,
    }));
    return { probs, top5 };
  }

  async function classifyImage(image) {
    return classifyPixels(imageToPixels(image, spec));
  }

  function show(result) {
    const list = $('results');
    list.replaceChildren(
      ...result.top5.map(({ label, prob }) => {
        const li = document.createElement('li');
        li.textContent = `${label}: ${(prob * 100).toFixed(1)}%`;
        const bar = document.createElement('span');
        bar.className = 'bar';
        bar.style.width = `${Math.round(prob * 200)}px`;
        li.append(bar);
        return li;
      }),
    );
  }

  $('file').addEventListener('change', async (event) => {
    const file = event.target.files[0];
    if (!file) return;
    $('status').textContent = `Classifying ${file.name}...`;
    try {
      const bitmap = await createImageBitmap(file);
      const pixels = imageToPixels(bitmap, spec);
      bitmap.close();
      const result = await classifyPixels(pixels);
      const preview = $('preview');
      if (preview.src) URL.revokeObjectURL(preview.src);
      preview.src = URL.createObjectURL(file);
      preview.hidden = false;
      show(result);
      window.tsfastWeb.last = { file: file.name, pixels: Array.from(pixels), ...result };
      $('status').textContent = `${file.name}: ${result.top5[0].label}`;
    } catch (err) {
      $('status').textContent = `Could not classify ${file.name}: ${err.message}`;
    }
  });

  $('file').disabled = false;
  $('status').textContent =
    `Model ready (${tf.getBackend()} backend, ${width}x${height} input). Pick a photo.`;
  return { spec, backend: tf.getBackend(), classifyPixels, classifyImage };
}

// The test and check scripts drive the page through this object.
window.tsfastWeb = { last: null, ready: null };
window.tsfastWeb.ready = start().catch((err) => {
  $('status').textContent = `Could not load the model: ${err.message}`;
  throw err;
});
