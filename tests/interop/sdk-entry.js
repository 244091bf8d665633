// Entry point of the esbuild bundle: the SDK's public API is its default export, WKSDK.
// The package ships ES modules whose imports lack file extensions, which Node 20 cannot
// load; `npm run build` bundles it (and its dependencies) into build/wukongimjssdk.cjs.
export { default } from "wukongimjssdk";
