/*
 * Data & Quartiers in JupyterLite: two JupyterLab plugins for trainees (issue 11, points 3 and 4).
 *
 * 1. « Python n'a pas pu démarrer » — when the browser cannot download Python (Pyodide) — no
 *    network in the room, a proxy or a firewall — a cell would stay at [*] for ever with, as the
 *    only sign, a red icon with an English tooltip. This plugin checks, as soon as the page opens,
 *    that the Pyodide the kernel will load can be fetched, and watches the kernel; on failure it
 *    shows a French notice in the page: what happened, the likely causes, what to do (the offline
 *    kit, the lab's zip).
 * 2. « Repartir de la version publiée » — a toolbar button (with its text) and an entry of the
 *    File menu put the notebook back to the version published with the book, and restart Python.
 *
 * Why a hand-written file: a JupyterLab extension is normally compiled by @jupyterlab/builder
 * (webpack), which would add a Node toolchain of a few hundred megabytes to the set-up for these
 * two plugins. JupyterLab loads a "federated extension" through a two-function contract
 * (`init(shareScope)`, `get(module)`, on `window._JUPYTERLAB[name]`): this file implements it
 * directly and takes JupyterLab's own modules (tokens, dialogs, toolbar buttons) from the shared
 * scope, as a compiled extension would. booktools/lite.py puts it in the JupyterLite build.
 */
(function () {
  'use strict';

  const NAME = '@data-et-quartiers/lite-extension';
  const KERNEL_PLUGIN = '@jupyterlite/pyodide-kernel-extension:kernel';
  /** After this long without an idle kernel, say that Python does not start (the first start
   *  downloads about 30 MB: one to two minutes on a slow connection). */
  const SLOW_START_MS = 150 * 1000;
  let shareScope = null;

  /** One of JupyterLab's shared modules (the application's own copy). */
  async function shared(name) {
    const versions = shareScope && shareScope[name];
    if (!versions) {
      throw new Error(`${NAME}: module partagé ${name} absent`);
    }
    const newest = Object.keys(versions).sort((a, b) =>
      a.localeCompare(b, undefined, { numeric: true })).pop();
    const factory = await versions[newest].get();
    return factory();
  }

  function element(tag, attributes, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attributes || {})) {
      node.setAttribute(key, value);
    }
    for (const child of children) {
      node.append(child);
    }
    return node;
  }

  function link(href, text) {
    return element('a', { href, target: '_blank', rel: 'noopener' }, text);
  }

  const STYLE = `
    #dq-python-notice { position: fixed; z-index: 10000; top: 12px; left: 50%; transform: translateX(-50%);
      width: min(46rem, calc(100vw - 24px)); max-height: calc(100vh - 24px); overflow: auto; box-sizing: border-box;
      background: #fff8e1; color: #1f1f1f; border: 2px solid #8a4b00; border-radius: 6px;
      padding: 1rem 1.25rem; font: 15px/1.45 system-ui, sans-serif; box-shadow: 0 4px 18px rgba(0,0,0,.25); }
    #dq-python-notice h2 { font-size: 1.15rem; margin: 0 0 .5rem; color: #6b3a00; }
    #dq-python-notice h3 { font-size: 1rem; margin: .75rem 0 .25rem; }
    #dq-python-notice ul { margin: .25rem 0; padding-left: 1.25rem; }
    #dq-python-notice a { color: #0b4f8a; text-decoration: underline; }
    #dq-python-notice button { margin-top: .75rem; font: inherit; padding: .3rem .9rem; cursor: pointer;
      background: #6b3a00; color: #fff; border: 0; border-radius: 4px; }
    #dq-python-notice button:focus-visible, #dq-python-notice a:focus-visible { outline: 3px solid #0b4f8a; outline-offset: 2px; }
  `;

  /** The page's JupyterLite configuration (written by config-utils.js before any extension loads). */
  function pageConfig() {
    try {
      return JSON.parse(document.getElementById('jupyter-config-data').textContent);
    } catch (err) {
      return {};
    }
  }

  /** The JupyterLite site's root, and the book's (the site is its `lite/` folder, online and in the kit). */
  function liteRoot() {
    return new URL(pageConfig().baseUrl || '../', window.location.href);
  }

  function bookUrl(path) {
    return new URL(path, new URL('../', liteRoot())).href;
  }

  function pyodideUrl() {
    const settings = (pageConfig().litePluginSettings || {})[KERNEL_PLUGIN] || {};
    return settings.pyodideUrl ? new URL(settings.pyodideUrl, liteRoot()).href : null;
  }

  let noticeShown = false;

  function showNotice(what) {
    if (noticeShown) {
      return;
    }
    if (!document.body) {
      document.addEventListener('DOMContentLoaded', () => showNotice(what));
      return;
    }
    noticeShown = true;
    // the page names its notebook (?path=labs/….ipynb), even before the notebook is open
    const path = new URLSearchParams(window.location.search).get('path') || '';
    const lab = /^labs\/([^/]+)\.ipynb$/.exec(path);
    const host = (() => {
      try {
        return new URL(pyodideUrl()).host;
      } catch (err) {
        return '';
      }
    })();
    document.head.append(element('style', {}, STYLE));
    const todo = element('ul', {},
      element('li', {}, 'Dans une salle sans réseau : ouvrez le lab depuis le ',
        link(bookUrl('chapters/kit-hors-ligne.html'), 'kit hors ligne'),
        ', une copie du livre avec Python que l\u2019animateur installe sur chaque poste.'),
      lab
        ? element('li', {}, 'Sur votre ordinateur : ',
          link(bookUrl(`bundles/${lab[1]}.zip`), 'téléchargez le lab (zip)'),
          ' et suivez son mode d\u2019emploi (LISEZMOI.md) ; une connexion suffit le temps de l\u2019installation.')
        : element('li', {}, 'Sur votre ordinateur : téléchargez le lab (zip) depuis sa page du livre.'),
      element('li', {}, 'Si la connexion revient, rechargez cette page.'));
    const close = element('button', { type: 'button' }, 'Fermer cet avis');
    const box = element('div', { id: 'dq-python-notice', role: 'alert', 'aria-labelledby': 'dq-python-notice-title', lang: 'fr' },
      element('h2', { id: 'dq-python-notice-title' }, 'Python n\u2019a pas pu démarrer dans ce navigateur'),
      element('p', {}, what),
      element('h3', {}, 'Causes probables'),
      element('ul', {},
        element('li', {}, 'pas de connexion à Internet dans la salle ;'),
        element('li', {}, `un proxy ou un pare-feu (réseau d\u2019entreprise ou d\u2019administration) qui bloque ${host ? `l\u2019adresse ${host}` : 'cette adresse'} ;`),
        element('li', {}, 'une connexion coupée ou trop lente pendant le téléchargement.')),
      element('h3', {}, 'Que faire'),
      todo,
      close);
    close.addEventListener('click', () => box.remove());
    box.dataset.shownAfterMs = String(Math.round(performance.now()));  // since the page's navigation
    document.body.append(box);
    close.focus();
  }

  // As soon as this file loads (before the application starts): can the page fetch the Pyodide
  // the kernel will load? Same request, same rules (CORS) as the kernel's.
  (function probePyodide() {
    const url = pyodideUrl();
    // the file browser and the text editor start no Python: nothing to warn about there
    if (!url || /\/(tree|edit)\//.test(window.location.pathname)) {
      return;
    }
    fetch(url, { cache: 'no-store' }).then(response => {
      if (!response.ok) {
        showNotice(`Les cellules ne peuvent pas s\u2019exécuter : le navigateur n\u2019a pas pu télécharger Python pour le navigateur (Pyodide) — le serveur a répondu « ${response.status} ».`);
      }
    }, () => {
      showNotice('Les cellules ne peuvent pas s\u2019exécuter : le navigateur n\u2019a pas pu télécharger Python pour le navigateur (Pyodide). La demande a été bloquée ou n\u2019a pas abouti.');
    });
  })();

  function makePlugins(modules) {
    const { coreutils, notebook, mainmenu, apputils } = modules;
    const { PageConfig, URLExt } = coreutils;
    const { Dialog, showDialog, ToolbarButton } = apputils;

    /** The published file of a notebook (what the site serves, never the browser's copy). */
    function publishedUrl(path) {
      return URLExt.join(PageConfig.getBaseUrl(), 'files', ...path.split('/').map(encodeURIComponent));
    }

    // --- 1. the notice, when the kernel itself dies or never starts ---------------------------

    const notice = {
      id: `${NAME}:avis-python`,
      description: 'Avis en français quand Python (Pyodide) ne peut pas démarrer.',
      autoStart: true,
      requires: [notebook.INotebookTracker],
      activate: (app, tracker) => {
        const started = new Map();
        setInterval(() => {
          tracker.forEach(panel => {
            const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
            if (!kernel) {
              return;
            }
            if (kernel.status === 'dead') {
              showNotice('Python s\u2019est arrêté pendant son démarrage : le téléchargement de Python pour le navigateur (Pyodide) ou de ses bibliothèques a échoué.');
            } else if (kernel.status === 'idle' || kernel.status === 'busy') {
              started.set(kernel.id, null);
            } else if (!started.has(kernel.id)) {
              started.set(kernel.id, Date.now());
            } else if (started.get(kernel.id) && Date.now() - started.get(kernel.id) > SLOW_START_MS) {
              showNotice('Python ne démarre toujours pas : le téléchargement de Python pour le navigateur (Pyodide) n\u2019aboutit pas.');
            }
          });
        }, 1000);
      }
    };

    // --- 2. « Repartir de la version publiée » ------------------------------------------------

    const COMMAND = 'data-et-quartiers:repartir';
    const restart = {
      id: `${NAME}:repartir`,
      description: 'Remettre le notebook dans sa version publiée.',
      autoStart: true,
      requires: [notebook.INotebookTracker],
      optional: [mainmenu.IMainMenu],
      activate: (app, tracker, mainMenu) => {
        async function startAgain(panel) {
          const result = await showDialog({
            title: 'Repartir de la version publiée ?',
            body: 'Le notebook reprend le contenu publié avec le livre et Python redémarre : vos modifications ' +
              'et vos résultats dans ce notebook sont effacés. Pour les garder, téléchargez d\u2019abord le ' +
              'notebook (menu Fichier, Télécharger).',
            buttons: [Dialog.cancelButton({ label: 'Annuler' }), Dialog.warnButton({ label: 'Repartir' })]
          });
          if (!result.button.accept) {
            return;
          }
          const response = await fetch(publishedUrl(panel.context.path), { cache: 'no-store' });
          if (!response.ok) {
            await showDialog({
              title: 'Version publiée introuvable',
              body: `Le fichier publié de ${panel.context.path} n\u2019a pas pu être lu (réponse ${response.status}). Rechargez la page pour repartir du lab publié.`,
              buttons: [Dialog.okButton({ label: 'Fermer' })]
            });
            return;
          }
          panel.context.model.fromJSON(await response.json());
          await panel.context.save();
          if (panel.sessionContext.session && panel.sessionContext.session.kernel) {
            await panel.sessionContext.restartKernel();
          }
        }

        app.commands.addCommand(COMMAND, {
          label: 'Repartir de la version publiée',
          caption: 'Effacer vos modifications et reprendre le lab tel qu\u2019il est publié',
          isEnabled: () => !!tracker.currentWidget,
          execute: () => tracker.currentWidget && startAgain(tracker.currentWidget)
        });
        if (mainMenu) {
          mainMenu.fileMenu.addGroup([{ command: COMMAND }], 2);
        }
        tracker.widgetAdded.connect((_, panel) => {
          const button = new ToolbarButton({
            label: 'Repartir de la version publiée',
            tooltip: 'Effacer vos modifications et reprendre le lab tel qu\u2019il est publié',
            className: 'dq-repartir',
            onClick: () => void startAgain(panel)
          });
          panel.toolbar.insertItem(20, 'dq-repartir', button);
        });
      }
    };

    return [notice, restart];
  }

  window._JUPYTERLAB = window._JUPYTERLAB || {};
  window._JUPYTERLAB[NAME] = {
    init: scope => {
      shareScope = scope;
    },
    get: async module => {
      if (module !== './extension') {
        throw new Error(`${NAME}: pas de module ${module}`);
      }
      const [coreutils, notebook, mainmenu, apputils] = await Promise.all([
        shared('@jupyterlab/coreutils'), shared('@jupyterlab/notebook'),
        shared('@jupyterlab/mainmenu'), shared('@jupyterlab/apputils')
      ]);
      const plugins = makePlugins({ coreutils, notebook, mainmenu, apputils });
      return () => ({ __esModule: true, default: plugins });
    }
  };
})();
