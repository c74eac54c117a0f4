// Offline mode, said once: a server without a language model (`offline` in /api/v1/config) gets
// one banner saying what Allin can and cannot do and how to configure a model, rather than a
// notice at the end of every answer. Dismissed, it stays dismissed in this browser.

const DISMISSED_KEY = "allin.offlineBannerDismissed";

export function showSetupBanner(config) {
  const banner = document.getElementById("setup-banner");
  if (!config.offline || localStorage.getItem(DISMISSED_KEY)) return;
  banner.hidden = false;
  document.getElementById("setup-banner-dismiss").addEventListener(
    "click",
    () => {
      localStorage.setItem(DISMISSED_KEY, "1");
      banner.hidden = true;
      // The button that had the focus is gone: give it to where the user goes next.
      document.getElementById("composer-input").focus();
    },
    { once: true },
  );
}
