import { turboJpegStatus } from '../../src/vision/image/turbojpeg.js';

/**
 * `false` when TurboJPEG loads here, else the reason to skip (for `it`/`describe` options).
 * CI installs it (`.ci/run`); on a machine without it the sharp path is the one tested.
 */
export function skipUnlessTurboJpeg(): false | string {
  const status = turboJpegStatus();
  return status.available
    ? false
    : `TurboJPEG is not available here (${status.library}); apt-get install libturbojpeg0`;
}
