// ESLint: typescript-eslint's recommended type-aware rules plus Pulumi's Output-in-template-literal rules.
const tseslint = require("typescript-eslint");
const pulumi = require("@pulumi/eslint-plugin");

module.exports = tseslint.config(
    { ignores: ["build/**", "node_modules/**", "rendered/**", ".lab/**", "eslint.config.js"] },
    ...tseslint.configs.recommended,
    {
        files: ["**/*.ts"],
        languageOptions: { parserOptions: { project: "./tsconfig.json", tsconfigRootDir: __dirname } },
        plugins: { "@pulumi": pulumi.default ?? pulumi },
        rules: {
            "@pulumi/no-output-in-template-literal": "error",
            "@pulumi/no-output-instance-in-template-literal": "error",
            "@typescript-eslint/no-explicit-any": "off",
            "@typescript-eslint/no-require-imports": "off",
            "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
        },
    },
    // Plain CommonJS launchers (bin/): require() is how they load the build.
    { files: ["bin/**/*.js"], rules: { "@typescript-eslint/no-require-imports": "off" } },
);
