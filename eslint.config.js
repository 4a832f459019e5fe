// ESLint (flat config) for the whole tree: typescript-eslint's type-aware rules where they catch
// real bugs (a promise nobody awaits, a promise where a callback's result is ignored, `any`
// spreading unchecked), and no rule about layout: Prettier owns that (eslint-config-prettier
// turns off every stylistic rule that could fight it). The layer rules are dependency-cruiser's
// (.dependency-cruiser.cjs); `npm run lint` runs both.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'coverage/', 'node_modules/'] },
  js.configs.recommended,
  {
    // The TypeScript of src/ and test/, checked with the types of tsconfig.test.json (which covers both).
    files: ['**/*.ts'],
    extends: [...tseslint.configs.recommendedTypeChecked],
    languageOptions: { parserOptions: { project: './tsconfig.test.json', tsconfigRootDir: import.meta.dirname } },
    rules: {
      // The code rejects control characters in input and strips terminal escapes on purpose.
      'no-control-regex': 'off',
      // An async function without await is harmless, and keeps a family of functions alike.
      '@typescript-eslint/require-await': 'off',
      // A rejection passes on what it was given (an abort's reason, an error from below) unchanged.
      '@typescript-eslint/prefer-promise-reject-errors': 'off',
      '@typescript-eslint/no-unused-expressions': ['error', { allowTernary: true, allowShortCircuit: true }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
    },
  },
  {
    // The tests read the CLI's JSON output, which is `any` by nature and checked by the assertions
    // themselves; the promise rules (an un-awaited expect(...).rejects) stay on.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      'no-regex-spaces': 'off',
    },
  },
  {
    // The plain JavaScript (bench, build and docs scripts, the launcher): no types to check against.
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    languageOptions: { globals: { ...globals.node } },
    rules: { 'no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }] },
  },
  prettier,
);
