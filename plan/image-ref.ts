// What the lab takes for an image reference (Docker's grammar: [host[:port]/]path[:tag][@sha256:digest]). Its own
// module, with no imports: the config and the pod manifests both check images with it.
const IMAGE_REF = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9.-]*[a-zA-Z0-9])?(?::[0-9]+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;

export function isImageRef(s: string): boolean { return IMAGE_REF.test(s); }
