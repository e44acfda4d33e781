-- Neovim end-to-end check of `etr lsp`, run by runtime/cli/tests/lsp_nvim.rs:
--   nvim --headless --clean -u NONE -c "luafile lsp_e2e.lua"
-- It opens the spec in $ETR_SPEC, attaches Neovim's built-in LSP client to `$ETR_BIN lsp`, waits
-- for the published diagnostics, asks for a hover and a completion at the positions in
-- $ETR_HOVER_AT and $ETR_COMPLETE_AT ("line:character", 0-based), writes what it got as JSON to
-- $ETR_OUT, and quits. Works with Neovim 0.7 (Debian 12) and later.

local out_path = os.getenv("ETR_OUT")
local result = { errors = {} }

local function write_and_quit()
  local file = io.open(out_path, "w")
  file:write(vim.fn.json_encode(result))
  file:close()
  vim.cmd("qall!")
end

local function position(env)
  local line, character = string.match(os.getenv(env), "(%d+):(%d+)")
  return { line = tonumber(line), character = tonumber(character) }
end

local ok, failure = pcall(function()
  local spec = os.getenv("ETR_SPEC")
  vim.cmd("edit " .. vim.fn.fnameescape(spec))
  local bufnr = vim.api.nvim_get_current_buf()
  local config = {
    name = "etr",
    cmd = { os.getenv("ETR_BIN"), "lsp" },
    root_dir = vim.fn.fnamemodify(spec, ":h"),
  }
  local client_id
  if vim.lsp.start ~= nil then
    -- Neovim 0.8 and later: start and attach to the current buffer in one call.
    client_id = vim.lsp.start(config)
  else
    client_id = vim.lsp.start_client(config)
    if client_id ~= nil then
      vim.lsp.buf_attach_client(bufnr, client_id)
    end
  end
  if client_id == nil then
    error("the LSP client did not start")
  end

  local initialized = vim.wait(20000, function()
    local client = vim.lsp.get_client_by_id(client_id)
    return client ~= nil and client.initialized
  end, 20)
  if not initialized then
    error("etr lsp did not initialize")
  end

  local got_diagnostics = vim.wait(20000, function()
    return #vim.diagnostic.get(bufnr) > 0
  end, 20)
  result.diagnostics = {}
  if got_diagnostics then
    for _, d in ipairs(vim.diagnostic.get(bufnr)) do
      table.insert(result.diagnostics, { line = d.lnum, col = d.col, code = d.code, message = d.message })
    end
  end

  local uri = vim.uri_from_bufnr(bufnr)
  local hover = vim.lsp.buf_request_sync(bufnr, "textDocument/hover",
    { textDocument = { uri = uri }, position = position("ETR_HOVER_AT") }, 20000)
  for _, response in pairs(hover or {}) do
    if response.result ~= nil and response.result.contents ~= nil then
      result.hover = response.result.contents.value
    end
    if response.err ~= nil then
      table.insert(result.errors, "hover: " .. vim.inspect(response.err))
    end
  end

  local completion = vim.lsp.buf_request_sync(bufnr, "textDocument/completion",
    { textDocument = { uri = uri }, position = position("ETR_COMPLETE_AT") }, 20000)
  result.completion = {}
  for _, response in pairs(completion or {}) do
    local items = response.result or {}
    if items.items ~= nil then
      items = items.items
    end
    for _, item in ipairs(items) do
      table.insert(result.completion, item.label)
    end
    if response.err ~= nil then
      table.insert(result.errors, "completion: " .. vim.inspect(response.err))
    end
  end
end)

if not ok then
  table.insert(result.errors, tostring(failure))
end
write_and_quit()
