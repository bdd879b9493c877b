" kd (kdsl): files ending in .kd
autocmd BufRead,BufNewFile *.kd setfiletype kd
