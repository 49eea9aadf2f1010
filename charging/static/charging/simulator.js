/*
 * Levity OCPP 1.6J charge point simulator: a charger in the browser, talking OCPP-J over a
 * WebSocket to the gateway. Plain JavaScript, no dependencies, no build step.
 *
 * - Charger: the connection, our CALLs (one outstanding at a time, OCPP-J 1.6 §4.1.1), the
 *   answers to the server's CALLs, heartbeats, transactions and meter values.
 * - Connector: one connector's state (status, transaction, energy register).
 * - The UI code at the bottom wires the page's forms and buttons to a Charger.
 *
 * The 1.6 vocabularies (statuses, error codes, stop reasons, …) come from the page, which reads
 * them from the spec's JSON schemas: see the "simulator-config" JSON block.
 */
(function () {
  "use strict";

  const CALL = 2;
  const CALLRESULT = 3;
  const CALLERROR = 4;
  const TYPE_NAMES = { 2: "CALL", 3: "CALLRESULT", 4: "CALLERROR" };
  const CALL_TIMEOUT_MS = 30000; // how long we wait for the server's answer to our CALL
  const LOG_LIMIT = 500; // frames kept in the log
  const REBOOT_PAUSE_MS = 1000; // between closing and reconnecting on Reset

  const config = JSON.parse(document.getElementById("simulator-config").textContent);

  // --- small helpers -------------------------------------------------------------------------

  const $ = (selector, root = document) => root.querySelector(selector);
  const $$ = (selector, root = document) => Array.from(root.querySelectorAll(selector));
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  /** OCPP time: ISO 8601 in UTC. */
  const ocppNow = () => new Date().toISOString();

  /** A random unique id for our CALLs (crypto.randomUUID needs a secure context; this does not). */
  function uniqueId() {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function fillSelect(select, values, selected) {
    select.replaceChildren(
      ...values.map((value) => {
        const option = document.createElement("option");
        option.value = option.textContent = value;
        option.selected = value === selected;
        return option;
      })
    );
  }

  /** The server answered one of our CALLs with a CALLERROR. */
  class CallError extends Error {
    constructor(action, code, description, details) {
      super(`${action}: ${code}${description ? ` (${description})` : ""}`);
      this.code = code;
      this.details = details;
    }
  }

  // --- the charger's configuration keys (GetConfiguration / ChangeConfiguration) --------------

  const INTEGER = /^\d+$/;
  const BOOLEAN = /^(true|false)$/;

  function defaultConfiguration(connectorCount) {
    // [value, readonly, accepted pattern]
    return {
      AuthorizeRemoteTxRequests: ["false", false, BOOLEAN],
      ClockAlignedDataInterval: ["0", false, INTEGER],
      ConnectionTimeOut: ["60", false, INTEGER],
      GetConfigurationMaxKeys: ["50", true, INTEGER],
      HeartbeatInterval: ["0", false, INTEGER],
      LocalAuthorizeOffline: ["false", false, BOOLEAN],
      LocalPreAuthorize: ["false", false, BOOLEAN],
      MeterValueSampleInterval: ["10", false, INTEGER],
      MeterValuesSampledData: ["Energy.Active.Import.Register,Power.Active.Import", false, /.*/],
      NumberOfConnectors: [String(connectorCount), true, INTEGER],
      ResetRetries: ["0", false, INTEGER],
      StopTransactionOnEVSideDisconnect: ["true", false, BOOLEAN],
      StopTransactionOnInvalidId: ["true", false, BOOLEAN],
      SupportedFeatureProfiles: ["Core,RemoteTrigger", true, /.*/],
      TransactionMessageAttempts: ["3", false, INTEGER],
      TransactionMessageRetryInterval: ["60", false, INTEGER],
      UnlockConnectorOnEVSideDisconnect: ["true", false, BOOLEAN],
      WebSocketPingInterval: ["0", false, INTEGER],
    };
  }

  // --- a connector ---------------------------------------------------------------------------

  class Connector {
    constructor(id) {
      this.id = id;
      this.status = "Available";
      this.errorCode = "NoError";
      this.plugged = false;
      this.transactionId = null;
      this.idTag = null;
      this.busy = false; // a start is under way
      this.energyWh = 0; // the register: rises with the chosen power while charging
      this.lastTick = Date.now();
      this.powerW = 11000;
      this.meterTimer = null;
      this.meterSeconds = 10; // periodic MeterValues interval, from the card or MeterValueSampleInterval
      this.meterEnabled = true;
      this.meterCount = 0;
      this.scheduledStatus = null; // ChangeAvailability Scheduled: applied when the transaction ends
    }

    get charging() {
      return this.transactionId !== null && this.status === "Charging";
    }

    /** The energy register in Wh, brought up to date. */
    register() {
      const now = Date.now();
      if (this.charging) this.energyWh += (this.powerW * (now - this.lastTick)) / 3600000;
      this.lastTick = now;
      return Math.round(this.energyWh);
    }

    /** One MeterValue: energy register and power (OCPP 1.6 §7.32, §7.45). */
    sample(context) {
      const base = { context, location: "Outlet", format: "Raw" };
      return {
        timestamp: ocppNow(),
        sampledValue: [
          { ...base, value: String(this.register()), measurand: "Energy.Active.Import.Register", unit: "Wh" },
          { ...base, value: String(this.charging ? this.powerW : 0), measurand: "Power.Active.Import", unit: "W" },
        ],
      };
    }
  }

  // --- the charger ---------------------------------------------------------------------------

  class Charger extends EventTarget {
    constructor() {
      super();
      this.ws = null;
      this.params = null; // {url, subprotocol} of the last connect, for reconnecting on Reset
      this.state = "disconnected";
      this.pending = new Map(); // unique id → {action, resolve, reject, timer}
      this.outbox = Promise.resolve(); // chains our CALLs: one outstanding at a time
      this.connectors = [];
      this.configuration = defaultConfiguration(0);
      this.registration = null;
      this.bootFields = null; // the last BootNotification's, to boot again after a Reset
      this.heartbeatInterval = 0;
      this.heartbeatTimer = null;
      this.bootRetryTimer = null;
      this.lastHeartbeat = null;
      this.rebooting = false;
      // Accept RemoteStartTransaction whatever the connector is doing, then report Preparing and
      // start anew, as a widely used simulator does by default: plays the charge-start loop a
      // central system must not fall into (issue 13).
      this.acceptRemoteStartWhileCharging = false;
    }

    // The page listens to these: "state", "log", "change".
    emit(type, detail) {
      this.dispatchEvent(new CustomEvent(type, { detail }));
    }

    /** Log a frame (decoded, with its raw text as on the wire) or, for "sys", a note. */
    log(direction, frame, action, raw) {
      this.emit("log", { at: new Date(), direction, frame, action, raw: raw === undefined ? JSON.stringify(frame) : raw });
    }

    note(text) {
      this.log("sys", text, null, text);
    }

    setState(state, text) {
      this.state = state;
      this.emit("state", { state, text });
    }

    get isOpen() {
      return this.ws !== null && this.ws.readyState === WebSocket.OPEN;
    }

    connector(id) {
      return this.connectors.find((c) => c.id === id) || null;
    }

    setConnectorCount(count) {
      if (this.connectors.length === count) return;
      this.connectors.forEach((c) => this.stopMeter(c));
      this.connectors = Array.from({ length: count }, (_, i) => new Connector(i + 1));
      this.configuration.NumberOfConnectors[0] = String(count);
      this.emit("change");
    }

    // -- connection --

    /** Open the websocket; resolves once it is open, rejects if it closes first. */
    connect(url, subprotocol) {
      this.params = { url, subprotocol };
      this.setState("connecting", `connecting to ${url}`);
      this.note(`connecting to ${url} ${subprotocol ? "offering ocpp1.6" : "without a subprotocol"}`);
      return new Promise((resolve, reject) => {
        let ws;
        try {
          ws = subprotocol ? new WebSocket(url, ["ocpp1.6"]) : new WebSocket(url);
        } catch (error) {
          this.setState("disconnected", "disconnected");
          reject(error);
          return;
        }
        this.ws = ws;
        ws.onopen = () => {
          const negotiated = ws.protocol || "no subprotocol";
          this.setState("connected", `connected · ${negotiated}`);
          this.note(`connected (${negotiated})`);
          resolve();
        };
        ws.onmessage = (event) => this.receive(event.data);
        ws.onclose = (event) => {
          if (this.ws !== ws) return; // an older socket
          this.ws = null;
          this.stopHeartbeats();
          const why = `code ${event.code}${event.reason ? `, ${event.reason}` : ""}`;
          // Browsers hide why a handshake failed (always 1006): say what usually causes it.
          const hint = event.code === 1006 ? " — refused or unreachable: check the URL and the subprotocol" : "";
          this.note(`connection closed (${why})${hint}`);
          this.setState(this.rebooting ? "connecting" : "closed", `closed · ${why}`);
          for (const [id, call] of this.pending) {
            clearTimeout(call.timer);
            call.reject(new Error(`${call.action}: connection closed before the answer`));
            this.pending.delete(id);
          }
          reject(new Error(`connection closed (${why})`));
        };
      });
    }

    disconnect() {
      if (this.ws) this.ws.close(1000, "disconnected by the user");
    }

    send(frame, action) {
      const text = JSON.stringify(frame);
      this.ws.send(text);
      this.log("out", frame, action, text);
    }

    // -- our CALLs --

    /** Send a CALL and resolve with the server's CALLRESULT payload (or reject). */
    call(action, payload) {
      const run = () => this.callNow(action, payload);
      const result = this.outbox.then(run, run);
      this.outbox = result.catch(() => {});
      return result;
    }

    callNow(action, payload) {
      return new Promise((resolve, reject) => {
        if (!this.isOpen) {
          reject(new Error(`${action}: not connected`));
          return;
        }
        const id = uniqueId();
        const timer = setTimeout(() => {
          this.pending.delete(id);
          reject(new Error(`${action}: no answer within ${CALL_TIMEOUT_MS / 1000} s`));
        }, CALL_TIMEOUT_MS);
        this.pending.set(id, { action, resolve, reject, timer });
        this.send([CALL, id, action, payload], action);
      });
    }

    // -- frames from the server --

    receive(text) {
      let frame;
      try {
        frame = JSON.parse(text);
      } catch {
        this.log("in", text, null, text);
        this.note("the server sent a frame that is not JSON");
        return;
      }
      if (!Array.isArray(frame)) {
        this.log("in", frame, null, text);
        return;
      }
      const [type, id] = frame;
      if (type === CALL) {
        this.log("in", frame, frame[2], text);
        this.answer(id, frame[2], frame[3] || {});
        return;
      }
      const call = this.pending.get(id);
      this.log("in", frame, call ? call.action : null, text);
      if (!call) return; // late, after our timeout
      this.pending.delete(id);
      clearTimeout(call.timer);
      if (type === CALLRESULT) call.resolve(frame[2] || {});
      else if (type === CALLERROR) call.reject(new CallError(call.action, frame[2], frame[3], frame[4]));
    }

    /** Answer a CALL of the server: CALLRESULT from its handler, then the handler's follow-up. */
    answer(id, action, payload) {
      const handler = Object.hasOwn(HANDLERS, action) ? HANDLERS[action] : null;
      if (handler === null) {
        // OCPP-J 1.6 §4.2.3: NotSupported for a 1.6 action we do not do, NotImplemented for others.
        const code = config.centralSystemActions.includes(action) ? "NotSupported" : "NotImplemented";
        this.send([CALLERROR, id, code, `The simulator does not support ${action}`, {}], action);
        return;
      }
      let outcome;
      try {
        outcome = handler.call(this, payload);
      } catch (error) {
        this.send([CALLERROR, id, "InternalError", String(error.message || error), {}], action);
        return;
      }
      this.send([CALLRESULT, id, outcome.result], action);
      if (outcome.then) {
        // After the answer is on the wire, as a charger would: e.g. StartTransaction follows
        // the Accepted of RemoteStartTransaction.
        setTimeout(() => this.run(outcome.then), 0);
      }
    }

    /** Run an async step, logging (never throwing) its error. */
    async run(step) {
      try {
        return await step();
      } catch (error) {
        this.note(`error: ${error.message || error}`);
        return undefined;
      }
    }

    // -- core messages --

    async boot(fields) {
      this.bootFields = fields;
      clearTimeout(this.bootRetryTimer);
      const answer = await this.call("BootNotification", fields);
      this.registration = answer.status;
      const interval = Number(answer.interval) || 0;
      if (answer.status === "Accepted") {
        this.configuration.HeartbeatInterval[0] = String(interval);
        this.startHeartbeats(interval);
        this.emit("change");
        await this.reportStatuses();
      } else {
        // OCPP 1.6 §4.2: Pending/Rejected: boot again after the interval (or a default).
        const retry = (interval || 30) * 1000;
        this.bootRetryTimer = setTimeout(() => this.run(() => this.boot(fields)), retry);
      }
      this.emit("change");
      return answer;
    }

    /** OCPP 1.6 §4.9: once accepted after a (re)boot, report every connector's status, 0 first. */
    async reportStatuses() {
      await this.statusNotification(null, "Available");
      for (const connector of this.connectors) await this.statusNotification(connector, connector.status, connector.errorCode);
    }

    async heartbeat() {
      const answer = await this.call("Heartbeat", {});
      this.lastHeartbeat = answer.currentTime || ocppNow();
      this.emit("change");
      return answer;
    }

    startHeartbeats(seconds) {
      this.stopHeartbeats();
      this.heartbeatInterval = seconds;
      if (seconds > 0) {
        this.heartbeatTimer = setInterval(() => {
          if (this.isOpen) this.run(() => this.heartbeat());
        }, seconds * 1000);
      }
      this.emit("change");
    }

    stopHeartbeats() {
      clearInterval(this.heartbeatTimer);
      clearTimeout(this.bootRetryTimer);
      this.heartbeatTimer = null;
    }

    async statusNotification(connector, status, errorCode) {
      const payload = { connectorId: connector ? connector.id : 0, status, errorCode: errorCode || "NoError", timestamp: ocppNow() };
      if (connector) {
        connector.status = status;
        connector.errorCode = payload.errorCode;
        connector.register(); // the register rises only while Charging
        this.emit("change");
      }
      return this.call("StatusNotification", payload);
    }

    authorize(idTag) {
      return this.call("Authorize", { idTag });
    }

    dataTransfer(vendorId, messageId, data) {
      const payload = { vendorId };
      if (messageId) payload.messageId = messageId;
      if (data) payload.data = data;
      return this.call("DataTransfer", payload);
    }

    // -- transactions --

    async startTransaction(connector, idTag) {
      if (connector.transactionId !== null) {
        throw new Error(`connector ${connector.id} already has transaction ${connector.transactionId}`);
      }
      connector.busy = true;
      try {
        connector.plugged = true;
        if (connector.status !== "Preparing") await this.statusNotification(connector, "Preparing");
        const answer = await this.call("StartTransaction", {
          connectorId: connector.id,
          idTag,
          meterStart: connector.register(),
          timestamp: ocppNow(),
        });
        connector.transactionId = answer.transactionId;
        connector.idTag = idTag;
        const status = answer.idTagInfo ? answer.idTagInfo.status : "Invalid";
        if (status !== "Accepted") {
          // StopTransactionOnInvalidId (OCPP 1.6 §9.1): end it at once.
          this.note(`idTag ${idTag} is ${status}: stopping transaction ${answer.transactionId}`);
          await this.stopTransaction(connector, "DeAuthorized");
          return answer;
        }
        await this.statusNotification(connector, "Charging");
        this.startMeter(connector);
        return answer;
      } finally {
        connector.busy = false;
        this.emit("change");
      }
    }

    async stopTransaction(connector, reason, idTag) {
      if (connector.transactionId === null) throw new Error(`connector ${connector.id} has no transaction`);
      const end = connector.sample("Transaction.End");
      this.stopMeter(connector);
      const payload = {
        transactionId: connector.transactionId,
        meterStop: connector.register(),
        timestamp: ocppNow(),
        reason,
        transactionData: [end],
      };
      if (idTag) payload.idTag = idTag;
      connector.transactionId = null;
      connector.idTag = null;
      this.emit("change");
      const answer = await this.call("StopTransaction", payload);
      const next = connector.scheduledStatus || (connector.plugged ? "Finishing" : "Available");
      connector.scheduledStatus = null;
      await this.statusNotification(connector, next);
      return answer;
    }

    async meterValues(connector, context) {
      const payload = { connectorId: connector.id, meterValue: [connector.sample(context)] };
      if (connector.transactionId !== null) payload.transactionId = connector.transactionId;
      const answer = await this.call("MeterValues", payload);
      connector.meterCount += 1;
      this.emit("change");
      return answer;
    }

    /** Periodic MeterValues while the transaction lasts, at the connector's chosen interval. */
    startMeter(connector, seconds) {
      this.stopMeter(connector);
      if (seconds) connector.meterSeconds = seconds;
      if (!connector.meterEnabled || connector.transactionId === null) return;
      connector.meterTimer = setInterval(() => {
        if (this.isOpen && connector.transactionId !== null) {
          this.run(() => this.meterValues(connector, "Sample.Periodic"));
        }
      }, connector.meterSeconds * 1000);
    }

    stopMeter(connector) {
      clearInterval(connector.meterTimer);
      connector.meterTimer = null;
    }

    async plug(connector) {
      if (connector.plugged) {
        if (connector.transactionId !== null) await this.stopTransaction(connector, "EVDisconnected");
        connector.plugged = false;
        return this.statusNotification(connector, "Available");
      }
      connector.plugged = true;
      // The server's AutoRemoteStartMiddleware answers Preparing with a RemoteStartTransaction.
      return this.statusNotification(connector, "Preparing");
    }

    /** The loop mode's answer to a RemoteStartTransaction: drop the running transaction (the
     * server should close it as an orphan), report Preparing again and start a new one. */
    async startAnew(connector, idTag) {
      if (connector.transactionId !== null) {
        this.note(`connector ${connector.id}: transaction ${connector.transactionId} abandoned for the remote start`);
        this.stopMeter(connector);
        connector.transactionId = null;
      }
      connector.plugged = true;
      await this.statusNotification(connector, "Preparing");
      return this.startTransaction(connector, idTag);
    }

    // -- Reset --

    async reboot(type) {
      const reason = type === "Hard" ? "HardReset" : "SoftReset";
      for (const connector of this.connectors) {
        if (connector.transactionId !== null) await this.run(() => this.stopTransaction(connector, reason));
      }
      this.note(`${type} reset: rebooting`);
      this.rebooting = true;
      try {
        if (this.ws) this.ws.close(1000, `${type} reset`);
        await sleep(REBOOT_PAUSE_MS);
        await this.connect(this.params.url, this.params.subprotocol);
      } finally {
        this.rebooting = false;
      }
      await this.boot(this.bootFields || { chargePointVendor: "Levity", chargePointModel: "Browser simulator" });
    }

    // -- TriggerMessage --

    async triggered(message, connectorId) {
      const targets = connectorId ? [this.connector(connectorId)] : this.connectors;
      switch (message) {
        case "BootNotification":
          return this.boot(this.bootFields || { chargePointVendor: "Levity", chargePointModel: "Browser simulator" });
        case "Heartbeat":
          return this.heartbeat();
        case "StatusNotification":
          if (!connectorId) await this.statusNotification(null, "Available");
          for (const c of targets) await this.statusNotification(c, c.status, c.errorCode);
          return undefined;
        case "MeterValues":
          for (const c of targets) await this.meterValues(c, "Trigger");
          return undefined;
        case "DiagnosticsStatusNotification":
          return this.call("DiagnosticsStatusNotification", { status: "Idle" });
        case "FirmwareStatusNotification":
          return this.call("FirmwareStatusNotification", { status: "Idle" });
        default:
          return undefined;
      }
    }
  }

  // --- answers to the server's CALLs (OCPP 1.6 §5), called with the Charger as `this` --------
  // Each returns {result: CALLRESULT payload, then: optional async follow-up}.

  const HANDLERS = {
    RemoteStartTransaction({ connectorId, idTag }) {
      if (this.acceptRemoteStartWhileCharging) {
        const connector = this.connector(connectorId || 1);
        if (!connector) return { result: { status: "Rejected" } };
        return { result: { status: "Accepted" }, then: () => this.startAnew(connector, idTag) };
      }
      const free = (c) => c && c.transactionId === null && !c.busy && !["Unavailable", "Faulted", "Reserved"].includes(c.status);
      const connector = connectorId ? this.connector(connectorId) : this.connectors.find(free);
      if (!free(connector)) return { result: { status: "Rejected" } };
      connector.busy = true; // a second remote start before this one's StartTransaction is refused
      return { result: { status: "Accepted" }, then: () => this.startTransaction(connector, idTag) };
    },

    RemoteStopTransaction({ transactionId }) {
      const connector = this.connectors.find((c) => c.transactionId === transactionId);
      if (!connector) return { result: { status: "Rejected" } };
      return { result: { status: "Accepted" }, then: () => this.stopTransaction(connector, "Remote") };
    },

    Reset({ type }) {
      return { result: { status: "Accepted" }, then: () => this.reboot(type) };
    },

    ChangeAvailability({ connectorId, type }) {
      const targets = connectorId === 0 ? this.connectors : [this.connector(connectorId)];
      if (targets.some((c) => c === null)) return { result: { status: "Rejected" } };
      const wanted = type === "Inoperative" ? "Unavailable" : "Available";
      const now = [];
      let scheduled = false;
      for (const c of targets) {
        if (c.transactionId !== null && wanted === "Unavailable") {
          c.scheduledStatus = wanted; // OCPP 1.6 §5.2: after the transaction
          scheduled = true;
        } else if (c.transactionId === null && c.status !== wanted) {
          now.push(c);
        }
      }
      const then = async () => {
        if (connectorId === 0) await this.statusNotification(null, wanted);
        for (const c of now) await this.statusNotification(c, wanted === "Available" && c.plugged ? "Preparing" : wanted);
      };
      return { result: { status: scheduled ? "Scheduled" : "Accepted" }, then };
    },

    UnlockConnector({ connectorId }) {
      const connector = this.connector(connectorId);
      if (!connector) return { result: { status: "UnlockFailed" } };
      const then = async () => {
        if (connector.transactionId !== null) await this.stopTransaction(connector, "UnlockCommand");
        connector.plugged = false; // the cable comes out
        await this.statusNotification(connector, "Available");
      };
      return { result: { status: "Unlocked" }, then };
    },

    TriggerMessage({ requestedMessage, connectorId }) {
      if (connectorId && !this.connector(connectorId)) return { result: { status: "Rejected" } };
      if (!config.triggerable.includes(requestedMessage)) return { result: { status: "NotImplemented" } };
      return { result: { status: "Accepted" }, then: () => this.triggered(requestedMessage, connectorId) };
    },

    GetConfiguration({ key }) {
      const names = key && key.length ? key : Object.keys(this.configuration);
      const known = names.filter((name) => Object.hasOwn(this.configuration, name));
      const result = {
        configurationKey: known.map((name) => ({
          key: name,
          readonly: this.configuration[name][1],
          value: this.configuration[name][0],
        })),
      };
      const unknown = names.filter((name) => !Object.hasOwn(this.configuration, name));
      if (unknown.length) result.unknownKey = unknown;
      return { result };
    },

    ChangeConfiguration({ key, value }) {
      if (!Object.hasOwn(this.configuration, key)) return { result: { status: "NotSupported" } };
      const [, readonly, pattern] = this.configuration[key];
      if (readonly || !pattern.test(value)) return { result: { status: "Rejected" } };
      this.configuration[key][0] = value;
      if (key === "HeartbeatInterval") this.startHeartbeats(Number(value));
      if (key === "MeterValueSampleInterval" && Number(value) > 0) {
        for (const c of this.connectors) this.startMeter(c, Number(value));
      }
      this.emit("change");
      return { result: { status: "Accepted" } };
    },

    ClearCache() {
      return { result: { status: "Accepted" } }; // no authorization cache to clear
    },

    DataTransfer() {
      return { result: { status: "UnknownVendorId" } };
    },
  };

  // --- the page --------------------------------------------------------------------------------

  const charger = new Charger();
  const logEntries = []; // oldest first, for "Copy log"

  function connectorCard(connector) {
    return $(`#connectors .connector[data-connector="${connector.id}"]`);
  }

  function buildConnectorCards() {
    const template = $("#connector-template");
    const cards = charger.connectors.map((connector) => {
      const card = template.content.firstElementChild.cloneNode(true);
      card.dataset.connector = String(connector.id);
      $(".connector-id", card).textContent = String(connector.id);
      fillSelect($(".status-select", card), config.statuses, "Available");
      fillSelect($(".error-select", card), config.errorCodes, "NoError");
      fillSelect($(".stop-reason", card), config.stopReasons, "Local");
      $(".power", card).addEventListener("change", (event) => {
        connector.register(); // bank the energy at the old power first
        connector.powerW = Math.max(0, Number(event.target.value) || 0);
      });
      const restartMeter = () => {
        connector.meterEnabled = $(".periodic", card).checked;
        charger.startMeter(connector, Math.max(1, Number($(".meter-interval", card).value) || 10));
      };
      $(".periodic", card).addEventListener("change", restartMeter);
      $(".meter-interval", card).addEventListener("change", restartMeter);
      connector.meterSeconds = Number($(".meter-interval", card).value);
      connector.meterEnabled = $(".periodic", card).checked;
      return card;
    });
    $("#connectors").replaceChildren(...cards);
    render();
  }

  function render() {
    const connected = charger.isOpen;
    $$("[data-action]").forEach((button) => {
      button.disabled = !connected;
    });
    $("#connect").disabled = charger.state === "connected" || charger.state === "connecting";
    $("#disconnect").disabled = !connected;
    $("#connector-count").disabled = connected;
    $("#registration").textContent = charger.registration || "—";
    $("#heartbeat-interval").textContent = charger.heartbeatInterval ? `${charger.heartbeatInterval} s` : "—";
    $("#last-heartbeat").textContent = charger.lastHeartbeat || "—";
    for (const connector of charger.connectors) {
      const card = connectorCard(connector);
      if (!card) continue;
      const badge = $(".connector-status", card);
      badge.textContent = connector.status;
      badge.dataset.status = connector.status;
      card.dataset.status = connector.status;
      $(".tx-id", card).textContent = connector.transactionId === null ? "—" : String(connector.transactionId);
      $(".energy", card).textContent = String(connector.register());
      $(".meter-count", card).textContent = String(connector.meterCount);
      $(".plug", card).textContent = connector.plugged ? "Unplug car" : "Plug in car";
      if (document.activeElement !== $(".meter-interval", card) && connector.meterSeconds) {
        $(".meter-interval", card).value = String(connector.meterSeconds);
      }
    }
  }

  function showEndpoint() {
    $("#endpoint").textContent = endpointUrl();
  }

  function endpointUrl() {
    const base = $("#gateway-url").value.trim();
    const id = encodeURIComponent($("#cp-id").value.trim());
    return `${base}${base.endsWith("/") ? "" : "/"}${id}`;
  }

  // -- the frame log --

  function formatTime(date) {
    return date.toISOString().slice(11, 23);
  }

  function entryText(entry) {
    return `${entry.at.toISOString()} ${entry.direction} ${entry.raw}`;
  }

  /** JSON on one line, with a space after `,` and `:` so that it wraps and reads well. */
  function compactJson(value) {
    if (Array.isArray(value)) return `[${value.map(compactJson).join(", ")}]`;
    if (value !== null && typeof value === "object") {
      const members = Object.entries(value).map(([key, item]) => `${JSON.stringify(key)}: ${compactJson(item)}`);
      return `{${members.join(", ")}}`;
    }
    return JSON.stringify(value);
  }

  function formatFrame(entry) {
    if (typeof entry.frame === "string") return entry.frame;
    return $("#log-pretty").checked ? JSON.stringify(entry.frame, null, 2) : compactJson(entry.frame);
  }

  const entryOfItem = new WeakMap(); // log <li> → its entry, to re-format on "pretty"

  function addLogEntry(entry) {
    logEntries.push(entry);
    if (logEntries.length > LOG_LIMIT) logEntries.shift();
    const item = document.createElement("li");
    item.className = `frame frame-${entry.direction}`;
    item.dataset.direction = entry.direction;
    const head = document.createElement("div");
    head.className = "frame-head";
    const parts = [formatTime(entry.at)];
    if (entry.direction === "sys") {
      parts.push("•");
    } else {
      const type = Array.isArray(entry.frame) ? TYPE_NAMES[entry.frame[0]] || "?" : "?";
      item.dataset.type = type;
      if (entry.action) item.dataset.action = entry.action;
      parts.push(entry.direction === "out" ? "→ server" : "← server", type);
      if (entry.action) parts.push(entry.action);
      if (Array.isArray(entry.frame)) parts.push(`#${entry.frame[1]}`);
    }
    head.textContent = parts.join("  ");
    const copy = document.createElement("button");
    copy.type = "button";
    copy.className = "copy";
    copy.textContent = "Copy";
    copy.title = "Copy the frame as sent on the wire";
    copy.addEventListener("click", () => copyText(entry.raw));
    head.append(" ", copy);
    const body = document.createElement("pre");
    body.textContent = formatFrame(entry);
    item.append(head, body);
    entryOfItem.set(item, entry);
    const log = $("#log");
    log.prepend(item);
    while (log.children.length > LOG_LIMIT) log.lastElementChild.remove();
  }

  /** Copy to the clipboard; outside a secure context (plain http on another host) the
   * Clipboard API is missing, so fall back to a selected textarea. */
  async function copyText(text) {
    try {
      if (navigator.clipboard && window.isSecureContext) {
        await navigator.clipboard.writeText(text);
      } else {
        const area = document.createElement("textarea");
        area.value = text;
        document.body.append(area);
        area.select();
        document.execCommand("copy");
        area.remove();
      }
      $("#log-copied").textContent = "copied";
    } catch (error) {
      $("#log-copied").textContent = `could not copy: ${error.message || error}`;
    }
    setTimeout(() => {
      $("#log-copied").textContent = "";
    }, 2000);
  }

  // -- wiring --

  function bootFields() {
    const fields = { chargePointVendor: $("#boot-vendor").value, chargePointModel: $("#boot-model").value };
    if ($("#boot-firmware").value) fields.firmwareVersion = $("#boot-firmware").value;
    return fields;
  }

  const CHARGER_ACTIONS = {
    boot: () => charger.boot(bootFields()),
    heartbeat: () => charger.heartbeat(),
    authorize: async () => {
      const answer = await charger.authorize($("#authorize-id-tag").value);
      $("#authorize-result").textContent = `idTagInfo: ${JSON.stringify(answer.idTagInfo)}`;
    },
    "data-transfer": () => charger.dataTransfer($("#dt-vendor").value, $("#dt-message").value, $("#dt-data").value),
    "diagnostics-status": () => charger.call("DiagnosticsStatusNotification", { status: $("#diagnostics-status").value }),
    "firmware-status": () => charger.call("FirmwareStatusNotification", { status: $("#firmware-status").value }),
  };

  const CONNECTOR_ACTIONS = {
    plug: (connector) => charger.plug(connector),
    status: (connector, card) => charger.statusNotification(connector, $(".status-select", card).value, $(".error-select", card).value),
    start: (connector, card) => charger.startTransaction(connector, $(".id-tag", card).value),
    stop: (connector, card) => charger.stopTransaction(connector, $(".stop-reason", card).value),
    meter: (connector) => charger.meterValues(connector, "Sample.Clock"),
  };

  function wire() {
    fillSelect($("#diagnostics-status"), config.diagnosticsStatuses, "Idle");
    fillSelect($("#firmware-status"), config.firmwareStatuses, "Idle");

    $("#connect-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const count = Math.min(10, Math.max(1, Number($("#connector-count").value) || 1));
      if (count !== charger.connectors.length) {
        charger.setConnectorCount(count);
        buildConnectorCards();
      }
      charger.run(() => charger.connect(endpointUrl(), $("#subprotocol").checked));
    });
    $("#disconnect").addEventListener("click", () => charger.disconnect());
    $("#loop-mode").addEventListener("change", (event) => {
      charger.acceptRemoteStartWhileCharging = event.target.checked;
    });
    charger.acceptRemoteStartWhileCharging = $("#loop-mode").checked;
    $("#connector-count").addEventListener("change", () => {
      charger.setConnectorCount(Math.min(10, Math.max(1, Number($("#connector-count").value) || 1)));
      buildConnectorCards();
    });
    $("#gateway-url").addEventListener("input", showEndpoint);
    $("#cp-id").addEventListener("input", showEndpoint);

    $("#charger-panel").addEventListener("click", (event) => {
      const button = event.target.closest("[data-action]");
      // charger.run logs a failure in the frame log instead of throwing into the event loop.
      if (button && CHARGER_ACTIONS[button.dataset.action]) charger.run(CHARGER_ACTIONS[button.dataset.action]);
    });
    $("#connectors").addEventListener("click", (event) => {
      const button = event.target.closest("[data-action]");
      const card = event.target.closest(".connector");
      if (!button || !card || !CONNECTOR_ACTIONS[button.dataset.action]) return;
      const connector = charger.connector(Number(card.dataset.connector));
      charger.run(() => CONNECTOR_ACTIONS[button.dataset.action](connector, card));
    });

    $("#log-copy").addEventListener("click", () => copyText(logEntries.map(entryText).join("\n")));
    $("#log-pretty").addEventListener("change", () => {
      for (const item of $$("#log li")) $("pre", item).textContent = formatFrame(entryOfItem.get(item));
    });
    $("#log-clear").addEventListener("click", () => {
      logEntries.length = 0;
      $("#log").replaceChildren();
    });

    charger.addEventListener("log", (event) => addLogEntry(event.detail));
    charger.addEventListener("change", render);
    charger.addEventListener("state", (event) => {
      const state = $("#state");
      state.textContent = event.detail.text;
      state.dataset.state = event.detail.state;
      state.className = `state state-${event.detail.state}`;
      render();
    });
    // The energy register rises every second while charging.
    setInterval(render, 1000);

    charger.setConnectorCount(Number($("#connector-count").value) || 1);
    buildConnectorCards();
    showEndpoint();
  }

  wire();
})();
