/* Passkeys (WebAuthn) in the back office: adding one on "Sign-in and security", signing in with one, and
   confirming who one is with one. Each widget is an element with data-passkey="add" or data-passkey="use", which
   gives the URLs of its ceremony, the CSRF token and its messages in the reader's language as data- attributes;
   the server's errors are JSON carrying their own message. Loaded from this site: the Content-Security-Policy
   allows no inline script nor inline event handler. */
(function () {
  "use strict";

  function bytesFrom(base64url) {
    const base64 = base64url.replace(/-/g, "+").replace(/_/g, "/");
    const binary = atob(base64 + "===".slice((base64.length + 3) % 4));
    return Uint8Array.from(binary, (character) => character.charCodeAt(0));
  }

  function base64urlFrom(buffer) {
    let binary = "";
    new Uint8Array(buffer).forEach((byte) => {
      binary += String.fromCharCode(byte);
    });
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function withBinaryIds(descriptors) {
    return (descriptors || []).map((descriptor) => Object.assign({}, descriptor, { id: bytesFrom(descriptor.id) }));
  }

  function creationOptions(options) {
    options.challenge = bytesFrom(options.challenge);
    options.user.id = bytesFrom(options.user.id);
    options.excludeCredentials = withBinaryIds(options.excludeCredentials);
    return options;
  }

  function requestOptions(options) {
    options.challenge = bytesFrom(options.challenge);
    options.allowCredentials = withBinaryIds(options.allowCredentials);
    return options;
  }

  // The credential as JSON (the shape of WebAuthn's toJSON()), with the fields of its kind of response.
  function credentialJSON(credential, response) {
    return {
      id: credential.id,
      rawId: base64urlFrom(credential.rawId),
      type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment || null,
      clientExtensionResults: credential.getClientExtensionResults(),
      response: { clientDataJSON: base64urlFrom(credential.response.clientDataJSON), ...response },
    };
  }

  function registrationJSON(credential) {
    const response = credential.response;
    return credentialJSON(credential, {
      attestationObject: base64urlFrom(response.attestationObject),
      transports: typeof response.getTransports === "function" ? response.getTransports() : [],
    });
  }

  function assertionJSON(credential) {
    const response = credential.response;
    return credentialJSON(credential, {
      authenticatorData: base64urlFrom(response.authenticatorData),
      signature: base64urlFrom(response.signature),
      userHandle: response.userHandle ? base64urlFrom(response.userHandle) : null,
    });
  }

  /* The server refused: its message is already in the reader's language. */
  class Refusal extends Error {
    constructor(message, redirect) {
      super(message);
      this.redirect = redirect;
    }
  }

  async function post(url, csrfToken, body) {
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken },
      body: JSON.stringify(body),
    });
    let answer = null;
    try {
      answer = await response.json();
    } catch (error) {
      answer = null;
    }
    if (!response.ok || answer === null) {
      throw new Refusal(answer && answer.message, answer && answer.redirect);
    }
    return answer;
  }

  async function addPasskey(widget) {
    const data = widget.dataset;
    const options = await post(data.optionsUrl, data.csrf, {});
    const credential = await navigator.credentials.create({ publicKey: creationOptions(options) });
    const name = widget.querySelector("[data-passkey-name]");
    return post(data.url, data.csrf, { credential: registrationJSON(credential), name: name ? name.value : "" });
  }

  async function usePasskey(widget) {
    const data = widget.dataset;
    const options = await post(data.optionsUrl, data.csrf, data.mode ? { mode: data.mode } : {});
    const credential = await navigator.credentials.get({ publicKey: requestOptions(options) });
    return post(data.url, data.csrf, { credential: assertionJSON(credential), next: data.next || "" });
  }

  function explain(error, data) {
    if (error instanceof Refusal) {
      return error.message || data.msgFailed;
    }
    if (error && error.name === "NotAllowedError") {
      return data.msgCancelled;
    }
    if (error && error.name === "InvalidStateError" && data.msgAlready) {
      return data.msgAlready;
    }
    return data.msgFailed;
  }

  function say(region, text, isError) {
    region.textContent = text || "";
    region.classList.toggle("text-danger", Boolean(isError));
  }

  function setUp(widget) {
    if (widget.dataset.passkeyReady) {
      return; // the script is loaded once per widget on the page
    }
    widget.dataset.passkeyReady = "true";
    const button = widget.querySelector("[data-passkey-start]");
    const region = widget.querySelector("[data-passkey-message]");
    button.disabled = false; // disabled in the page until this script can answer it
    button.addEventListener("click", async () => {
      if (!window.PublicKeyCredential || !navigator.credentials) {
        say(region, widget.dataset.msgUnsupported, true);
        return;
      }
      button.disabled = true;
      say(region, widget.dataset.msgWorking, false);
      try {
        const answer = widget.dataset.passkey === "add" ? await addPasskey(widget) : await usePasskey(widget);
        window.location.assign(answer.redirect);
      } catch (error) {
        say(region, explain(error, widget.dataset), true);
        button.disabled = false;
        if (error instanceof Refusal && error.redirect) {
          window.location.assign(error.redirect);
        }
      }
    });
  }

  document.querySelectorAll("[data-passkey]").forEach(setUp);
})();
