// The dashboard is built from the repository root's node_modules (no package.json of its own), and it
// imports the API's response types from ../api, so Turbopack's root is the repository.
import path from 'node:path';
import type { NextConfig } from 'next';

const repositoryRoot = path.join(__dirname, '..');

const config: NextConfig = {
  poweredByHeader: false,
  reactStrictMode: true,
  turbopack: { root: repositoryRoot },
  outputFileTracingRoot: repositoryRoot,
};

export default config;
