import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// Airflow's react_apps loader imports this bundle and renders globalThis.AirflowPlugin with the
// host's own React, so React stays out of the bundle.
export default defineConfig({
  plugins: [react()],
  define: { 'process.env.NODE_ENV': JSON.stringify('production') },
  build: {
    outDir: '../airflow_plugin/src/airgate/plugins/static',
    // The folder belongs to the Python package; only our file is ours to replace.
    emptyOutDir: false,
    lib: {
      entry: 'src/main.tsx',
      formats: ['umd'],
      name: 'AirflowPlugin',
      fileName: () => 'airgate.umd.js',
    },
    rollupOptions: {
      external: ['react', 'react-dom', 'react/jsx-runtime'],
      output: {
        globals: {
          react: 'React',
          'react-dom': 'ReactDOM',
          'react/jsx-runtime': 'ReactJSXRuntime',
        },
      },
    },
  },
});
