" Vim indent file for kd: bodies and open brackets indent by one level, a
" chain broken before `->` indents its continuation lines one level under the
" statement (the layout of kdsl fmt, LANGUAGE.md section 11).

if exists('b:did_indent')
  finish
endif
let b:did_indent = 1

setlocal autoindent
setlocal indentexpr=GetKdIndent(v:lnum)
setlocal indentkeys=0{,0},0),0],!^F,o,O,0=->
let b:undo_indent = 'setlocal autoindent< indentexpr< indentkeys<'

if exists('*GetKdIndent')
  finish
endif

" The code of a line with its strings emptied and its comment removed, so
" that brackets inside them do not count.
function! s:Code(lnum) abort
  let line = getline(a:lnum)
  let line = substitute(line, '"\%([^"\\]\|\\.\)*"', '""', 'g')
  let line = substitute(line, "'\\%([^'\\\\]\\|\\\\.\\)*'", "''", 'g')
  return substitute(line, '#.*$', '', '')
endfunction

" The nearest line above lnum with code (blank and comment lines skipped).
function! s:PrevCode(lnum) abort
  let lnum = prevnonblank(a:lnum - 1)
  while lnum > 0 && getline(lnum) =~# '^\s*#'
    let lnum = prevnonblank(lnum - 1)
  endwhile
  return lnum
endfunction

" [column of the last closing bracket that closes a line above (0 if none),
"  brackets the rest of the line leaves open].
function! s:Brackets(code) abort
  let depth = 0
  let closer = 0
  let open = 0
  let i = 0
  for char in split(a:code, '\zs')
    let i += 1
    if char =~# '[({[]'
      let open += 1
    elseif char =~# '[)}\]]'
      if open > 0
        let open -= 1
      else
        let closer = i
      endif
    endif
  endfor
  return [closer, open]
endfunction

" The line where the statement of lnum starts: for a line that closes
" brackets opened above (`)`, `} else {`), the line that opened them.
function! s:Head(lnum) abort
  let [closer, open] = s:Brackets(s:Code(a:lnum))
  if closer == 0
    return a:lnum
  endif
  let saved = getpos('.')
  call cursor(a:lnum, closer)
  let skip = 'synIDattr(synID(line("."), col("."), 0), "name") =~? "string\\|comment"'
  let opener = searchpair('[({[]', '', '[)}\]]', 'bW', skip)
  call setpos('.', saved)
  return opener > 0 && opener < a:lnum ? s:Head(opener) : a:lnum
endfunction

function! GetKdIndent(lnum) abort
  let prev = s:PrevCode(a:lnum)
  if prev == 0
    return 0
  endif
  let sw = shiftwidth()
  let cur = s:Code(a:lnum)
  let closes = cur =~# '^\s*[)}\]]'
  let head = s:Head(prev)
  let [closer, open] = s:Brackets(s:Code(prev))
  let in_chain = s:Code(head) =~# '^\s*->'
  if open > 0
    return indent(head) + sw - (closes ? sw : 0)
  endif
  let ind = indent(head)
  if closes
    return ind - sw - (in_chain ? sw : 0)
  endif
  if cur =~# '^\s*->' || s:Code(prev) =~# '->\s*$'
    return in_chain ? ind : ind + sw
  endif
  return in_chain ? ind - sw : ind
endfunction
