// Result images: fetched with the key (an <img src> cannot send one), shown from blob: URLs, each
// with a download link.
import { call, local } from "./api.js";
import { el } from "./format.js";

/** Figures for a finished image job's files; `urls` collects the blob URLs to revoke later. */
export async function imageFigures(job, urls) {
  const files = job.result?.files || [];
  return Promise.all(
    files.map(async (file, index) => {
      const response = await call("GET", local(file.url), { accept: file.content_type });
      const url = URL.createObjectURL(await response.blob());
      urls.push(url);
      const number = `${index + 1} of ${files.length}`;
      const image = el("img", "", {
        src: url,
        alt: `Image ${number} for “${job.input.prompt}”, ${file.width}×${file.height}`,
        width: String(file.width),
        height: String(file.height),
        "data-testid": "result-image",
      });
      const link = el("a", `Download image ${number} (PNG)`, {
        href: url,
        download: `llmb-${job.id.slice(0, 8)}-${index}.png`,
      });
      const figure = el("figure");
      figure.append(image, el("figcaption"));
      figure.lastChild.append(link);
      return figure;
    }),
  );
}

/** Forget blob URLs made earlier (their images are being replaced). */
export function revokeAll(urls) {
  for (const url of urls.splice(0)) URL.revokeObjectURL(url);
}
