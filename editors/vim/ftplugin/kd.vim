" Vim filetype plugin for kd, the text language of neural-network graphs (kdsl).
" kd's canonical layout (kdsl fmt) indents bodies by 4 spaces, never tabs.

if exists('b:did_ftplugin')
  finish
endif
let b:did_ftplugin = 1

setlocal commentstring=#\ %s
setlocal comments=:##,:#
setlocal expandtab shiftwidth=4 softtabstop=4
setlocal formatoptions-=t formatoptions+=croql
setlocal suffixesadd=.kd
setlocal matchpairs=(:),[:],{:}

let b:undo_ftplugin = 'setlocal commentstring< comments< expandtab< shiftwidth< softtabstop<'
      \ . ' formatoptions< suffixesadd< matchpairs<'
