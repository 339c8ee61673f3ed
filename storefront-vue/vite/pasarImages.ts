/**
 * Product images and payment-channel logos belong to the services that own them (the
 * demo catalog in svc-product, the channel list in svc-payment), which give their
 * addresses as `/images/products/<id>.svg` and `/images/channels/<code>.svg` on the
 * storefront's origin. This plugin serves those two folders in `vite dev` and copies
 * them into the build output, so the storefront never keeps copies of its own.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { extname, join, resolve } from "node:path";

import type { Connect, Plugin } from "vite";

/** One folder of images and the URL prefix it is served under. */
export interface ImageFolder {
  /** The URL prefix, such as "/images/products/". */
  urlPrefix: string;
  /** The folder on disk. */
  directory: string;
}

const contentTypes: Record<string, string> = {
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".webp": "image/webp",
};

/** File names an image URL may ask for: no folders, no dot files, a known image type. */
const imageFileName = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** The image files of a folder (an absent folder has none). */
export function listImages(directory: string): string[] {
  if (!existsSync(directory)) return [];
  return readdirSync(directory)
    .filter((name) => imageFileName.test(name) && extname(name).toLowerCase() in contentTypes)
    .filter((name) => statSync(join(directory, name)).isFile())
    .sort();
}

/** The file an image URL names, or undefined when it names none of the folders' images. */
export function resolveImage(folders: readonly ImageFolder[], url: string): string | undefined {
  const path = decodeURIComponent(url.split("?")[0] ?? "");
  for (const folder of folders) {
    if (!path.startsWith(folder.urlPrefix)) continue;
    const name = path.slice(folder.urlPrefix.length);
    if (!imageFileName.test(name) || !(extname(name).toLowerCase() in contentTypes)) return undefined;
    const file = join(folder.directory, name);
    return existsSync(file) && statSync(file).isFile() ? file : undefined;
  }
  return undefined;
}

/** The default folders, relative to the repository root. */
export function pasarImageFolders(repositoryRoot: string): ImageFolder[] {
  return [
    {
      urlPrefix: "/images/products/",
      directory: resolve(repositoryRoot, "svc-product/src/pasar_product/demo/images"),
    },
    {
      urlPrefix: "/images/channels/",
      directory: resolve(repositoryRoot, "svc-payment/src/pasar_payment/channel_images"),
    },
  ];
}

export function pasarImages(folders: readonly ImageFolder[]): Plugin {
  const serveImage: Connect.NextHandleFunction = (request, response, next) => {
    const file = request.url === undefined ? undefined : resolveImage(folders, request.url);
    if (file === undefined) {
      next();
      return;
    }
    response.setHeader("Content-Type", contentTypes[extname(file).toLowerCase()] ?? "application/octet-stream");
    response.setHeader("Cache-Control", "no-cache");
    response.end(readFileSync(file));
  };

  return {
    name: "pasar-images",
    configureServer(server) {
      server.middlewares.use(serveImage);
    },
    generateBundle() {
      for (const folder of folders) {
        const names = listImages(folder.directory);
        if (names.length === 0) {
          this.warn(`no images in ${folder.directory}: ${folder.urlPrefix}* will show placeholders`);
        }
        for (const name of names) {
          this.emitFile({
            type: "asset",
            fileName: `${folder.urlPrefix.replace(/^\//, "")}${name}`,
            source: readFileSync(join(folder.directory, name)),
          });
        }
      }
    },
  };
}
