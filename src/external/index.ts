export {
  CACHE_ENV_VAR,
  cacheDir,
  cachedPath,
  DownloadError,
  type DownloadOptions,
  downloadFile,
  sha256File,
} from './download.js';
export { type UntarDataOptions, untarData } from './untar.js';
export { URLs } from './urls.js';
